// The token the person entered in a page, kept in sessionStorage under the page's own key (gone when the tab
// closes); a ?token= in the address is taken once and removed from the address bar. Every page loads this
// before its own script (shared/pages.py serves it beside the page's files).
window.RuggengraatToken = function (key) {
  "use strict";
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(key, given);
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return {
    get: () => sessionStorage.getItem(key) || "",
    set: (value) => sessionStorage.setItem(key, value.trim().replace(/^Bearer\s+/i, "")),
    forget: () => sessionStorage.removeItem(key),
  };
};
