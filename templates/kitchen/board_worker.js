{% load static %}// The kitchen board's service worker (scope /kitchen/, CONTRACT.md section 10). A board reloaded while the
// Wi-Fi is down still opens: from the last copy of its page and files, showing what it last knew (board.js
// keeps that) with the taps still waiting. Network first, always: online, the board is exactly what the server
// serves, and the copy is only the fallback. The API and the socket never pass through here.
const CACHE = "kitchen-board-v1";
const WAIT_FOR_NETWORK_MS = 4000; // Wi-Fi joined but carrying nothing: the copy, rather than a blank wait
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
    // Sent to the login: no page of the board (any station) is kept for whoever comes next.
    for (const key of await cache.keys()) if (keptHere(key.url, true)) await cache.delete(key);
  } else if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

/** The network's answer; the copy instead when the network fails, answers with a server error (a proxy's
 * 502 while the app restarts) or keeps the board waiting. Without a copy, the network's answer whatever it is. */
async function fromNetworkElseCopy(request) {
  const cache = await caches.open(CACHE);
  const copy = await cache.match(request, { ignoreVary: true });
  const network = fromNetwork(request, cache);
  if (!copy) return network;
  const answered = network.then(
    (response) => (response.status >= 500 ? copy : response),
    () => copy,
  );
  const late = new Promise((resolve) => setTimeout(() => resolve(copy), WAIT_FOR_NETWORK_MS));
  return Promise.race([answered, late]);
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
