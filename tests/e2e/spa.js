// Injected by the fixture server into every fixture page: imitates the real site's
// client-side navigation between /papers pages (fetch the next page, swap the DOM,
// history.pushState). Like the real Svelte island, a list-to-list navigation re-renders
// the component but leaves its data-props stale.
(() => {
  window.__spa = { navigations: 0, loadedAt: Date.now() };
  async function go(url, push) {
    const response = await fetch(url);
    const html = await response.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const oldMain = document.querySelector("main");
    const newMain = doc.querySelector("main");
    const oldIsland = oldMain && oldMain.querySelector(".SVELTE_HYDRATER");
    const newIsland = newMain && newMain.querySelector(".SVELTE_HYDRATER");
    if (oldIsland && newIsland && oldIsland.dataset.target === newIsland.dataset.target) {
      oldIsland.replaceChildren(...[...newIsland.childNodes].map((n) => document.importNode(n, true)));
    } else {
      oldMain.replaceWith(document.importNode(newMain, true));
    }
    document.title = doc.title;
    if (push) history.pushState({}, "", url);
    window.scrollTo(0, 0);
    window.__spa.navigations += 1;
  }
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link) return;
    const url = new URL(link.getAttribute("href"), location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith("/papers")) return;
    event.preventDefault();
    go(url.href, true);
  });
  window.addEventListener("popstate", () => go(location.href, false));
})();
