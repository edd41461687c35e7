// The workspace's keyboard: "/" goes to the patient search from anywhere (but a field being
// typed in), arrows move through the patients found, Enter opens one, Escape closes the list.
(function () {
  "use strict";

  function results(input) {
    const box = document.querySelector(input.dataset.searchResults);
    return box ? Array.from(box.querySelectorAll("[data-result]")) : [];
  }

  function typing(target) {
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  document.addEventListener("keydown", function (event) {
    const search = document.getElementById("patient-search");
    if (!search) return;
    if (event.key === "/" && !typing(event.target)) {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    const found = results(search);
    const inList = found.includes(document.activeElement);
    if (event.target !== search && !inList) return;
    const at = found.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && found.length) {
      event.preventDefault();
      found[Math.min(at + 1, found.length - 1)].focus();
    } else if (event.key === "ArrowUp" && inList) {
      event.preventDefault();
      (at > 0 ? found[at - 1] : search).focus();
    } else if (event.key === "Enter" && event.target === search && found.length === 1) {
      event.preventDefault();
      found[0].click();
    } else if (event.key === "Escape") {
      const box = document.querySelector(search.dataset.searchResults);
      if (box) box.replaceChildren();
      search.focus();
    }
  });
})();
