{% load static %}// A page's service worker for offline reloads (CONTRACT.md section 10): the kitchen board (scope /kitchen/)
// and a table's tab on the guests' phones (scope /t/). A page reloaded while the Wi-Fi is down still opens:
// from the last copy of its page and files, showing what it last knew (board.js and table.js keep that).
// Network first, always: online, the page is exactly what the server serves, and the copy is only the
// fallback. The API and the socket never pass through here.
const CACHE_PREFIX = "{{ cache }}-";
const CACHE = CACHE_PREFIX + "v1";
const PAGE = new RegExp({{ page_pattern_json|safe }}); // the paths of the pages kept (any query)
const WAIT_FOR_NETWORK_MS = 4000; // Wi-Fi joined but carrying nothing: the copy, rather than a blank wait
const STATIC_PREFIX = "{% get_static_prefix %}";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      // Only this worker's older caches: the origin's other worker keeps its own.
      for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

/** The page itself (the board at any station, a table's tab) and the static files it loads. */
function keptHere(url, navigation) {
  const { origin, pathname } = new URL(url, self.location.href);
  if (origin !== self.location.origin) return false;
  return navigation ? PAGE.test(pathname) : pathname.startsWith(STATIC_PREFIX);
}

async function fromNetwork(request, cache) {
  const response = await fetch(request);
  if (response.type === "opaqueredirect" || response.redirected) {
    // Sent to the login (the board): no page of it (any station) is kept for whoever comes next.
    for (const key of await cache.keys()) if (keptHere(key.url, true)) await cache.delete(key);
  } else if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

/** The network's answer; the copy instead when the network fails, answers with a server error (a proxy's
 * 502 while the app restarts) or keeps the page waiting. Without a copy, the network's answer whatever it is. */
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

// The first load of a page ran before this worker: the page names what it loaded, to be kept now.
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
