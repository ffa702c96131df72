// Builds Aware's service worker with Workbox (workbox-build's generateSW) into build/static/pwa/,
// where cms.views.service_worker serves it from the site's root (/service-worker.js).
//
// What it caches, and nothing else: the learner's pages (a lesson, a module, the catalogue,
// My training, a quiz's start page and an attempt's questions), network first so that a page
// is fresh whenever there is a signal; and the static files and lesson images they use. Never
// the sign-in pages, the admin, My team, reports, certificates or anything that is not a GET.
// Signing out clears every cache (the Clear-Site-Data header, see accounts.views.SignOut).
import { generateSW } from "workbox-build";

const { size, warnings } = await generateSW({
  swDest: "build/static/pwa/service-worker.js",
  mode: "production",
  sourcemap: false,
  // One file: the page's Content-Security-Policy (script-src 'self') applies to the worker too,
  // and there is nothing else to fetch before it can start.
  inlineWorkboxRuntime: true,
  skipWaiting: true,
  clientsClaim: true,
  cleanupOutdatedCaches: true,
  cacheId: "aware",
  // The offline pages are cached as they are opened (and a module's lessons when the module is
  // opened: the page asks with Workbox's CACHE_URLS message), not precached.
  globPatterns: [],
  runtimeCaching: [
    {
      urlPattern: ({ url, request, sameOrigin }) =>
        sameOrigin &&
        (request.mode === "navigate" || request.headers.get("X-Aware-Prefetch") === "1") &&
        /^\/(training\/.*|my-training\/|quizzes\/\d+\/|quizzes\/attempts\/\d+\/)$/.test(url.pathname),
      handler: "NetworkFirst",
      options: {
        cacheName: "aware-pages",
        networkTimeoutSeconds: 6,
        expiration: { maxEntries: 300, maxAgeSeconds: 60 * 60 * 24 * 30 },
        plugins: [
          {
            // A page answered by a redirect (a session that has ended sends the sign-in page)
            // is not the page asked for: never keep it under that page's address.
            cacheWillUpdate: async ({ response }) =>
              response && response.status === 200 && !response.redirected ? response : null,
          },
        ],
      },
    },
    {
      urlPattern: ({ url, sameOrigin }) =>
        sameOrigin && (url.pathname.startsWith("/static/") || url.pathname.startsWith("/media/images/")),
      handler: "StaleWhileRevalidate",
      options: {
        cacheName: "aware-static",
        expiration: { maxEntries: 400, maxAgeSeconds: 60 * 60 * 24 * 30 },
        cacheableResponse: { statuses: [200] },
      },
    },
  ],
});
for (const warning of warnings) console.warn(warning);
console.log(`build/static/pwa/service-worker.js (precaches ${size} bytes)`);
