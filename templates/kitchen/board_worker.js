{% load static %}// The kitchen board's service worker (scope /kitchen/, CONTRACT.md section 10). A board reloaded while the
// Wi-Fi is down still opens: from the last copy of its page and files, showing what it last knew (board.js
// keeps that) with the taps still waiting. Network first, always: online, the board is exactly what the server
// serves, and the copy is only the fallback. The API and the socket never pass through here.
const CACHE = "kitchen-board-v1";
const STATIC_PREFIX = "{% get_static_prefix %}";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

/** The board's own page (any station) and the static files it loads. */
function keptHere(url, navigation) {
  const { origin, pathname } = new URL(url, self.location.href);
  if (origin !== self.location.origin) return false;
  return navigation ? pathname === "/kitchen/" : pathname.startsWith(STATIC_PREFIX);
}

async function fromNetwork(request, cache) {
  const response = await fetch(request);
  if (response.type === "opaqueredirect" || response.redirected) {
    await cache.delete(request); // sent to the login: nothing of the board is kept for whoever comes next
  } else if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

async function fromNetworkElseCopy(request) {
  const cache = await caches.open(CACHE);
  try {
    return await fromNetwork(request, cache);
  } catch (error) {
    const copy = await cache.match(request, { ignoreVary: true });
    if (copy) return copy;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || !keptHere(request.url, request.mode === "navigate")) return;
  event.respondWith(fromNetworkElseCopy(request));
});

// The first load of a board ran before this worker: the page names what it loaded, to be kept now.
self.addEventListener("message", (event) => {
  const { keep } = event.data || {};
  if (!Array.isArray(keep)) return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const [url, navigation] of keep) {
        if (!keptHere(url, navigation)) continue;
        try {
          await fromNetwork(new Request(url, { credentials: "same-origin" }), cache);
        } catch {
          // offline already: kept at the next load
        }
      }
      event.source?.postMessage({ kept: true });
    })(),
  );
});
