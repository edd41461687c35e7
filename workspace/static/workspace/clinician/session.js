// The session screen: rows added from the body map and from product presets, structures
// offered per region, a scanned GS1 barcode read into lot and expiry, Enter kept from sending
// the form, and what is typed kept in this browser until the session is saved.
(function () {
  "use strict";

  const PREFIXES = ["injectates", "sites", "effects"];
  const OTHER = "__other__";
  const GS = "\u001d";

  // ----- small helpers -----------------------------------------------------------------

  function screenOf(node) {
    return node && node.closest ? node.closest("[data-session-screen]") : null;
  }

  function formOf(screen) {
    return screen.querySelector("[data-session-form]");
  }

  function data(screen, id) {
    const node = screen.querySelector("#" + id);
    return node ? JSON.parse(node.textContent) : {};
  }

  function rows(screen, prefix) {
    const box = screen.querySelector('[data-rows="' + prefix + '"]');
    return box ? Array.from(box.querySelectorAll(':scope > [data-row="' + prefix + '"]')) : [];
  }

  function field(row, name) {
    return row.querySelector('[name$="-' + name + '"]');
  }

  function total(screen, prefix) {
    return screen.querySelector('[name="' + prefix + '-TOTAL_FORMS"]');
  }

  function setValue(input, value) {
    if (!input) return;
    if (input.type === "checkbox") {
      input.checked = value === true || value === "on" || value === "true";
    } else {
      input.value = value === null || value === undefined ? "" : String(value);
    }
  }

  function changed(node) {
    const form = node.closest("form");
    if (form) form.dispatchEvent(new CustomEvent("rows-changed", { bubbles: true }));
  }

  function lineOf(row) {
    return parseInt((field(row, "line") || {}).value || "0", 10);
  }

  function setLine(row, line) {
    setValue(field(row, "line"), line);
    row.querySelectorAll("[data-line-label]").forEach(function (label) {
      label.textContent = String(line);
    });
  }

  // ----- rows ----------------------------------------------------------------------------

  function renumberIndices(screen, prefix) {
    const pattern = new RegExp("^(id_)?" + prefix + "-(\\d+|__prefix__)-");
    rows(screen, prefix).forEach(function (row, index) {
      row.querySelectorAll("[name], [id], [for]").forEach(function (node) {
        ["name", "id", "for"].forEach(function (attribute) {
          const value = node.getAttribute(attribute);
          if (value && pattern.test(value)) {
            node.setAttribute(attribute, value.replace(pattern, "$1" + prefix + "-" + index + "-"));
          }
        });
      });
    });
    total(screen, prefix).value = String(rows(screen, prefix).length);
  }

  function addRow(screen, prefix) {
    const template = screen.querySelector('template[data-template="' + prefix + '"]');
    const box = screen.querySelector('[data-rows="' + prefix + '"]');
    const index = rows(screen, prefix).length;
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const holder = document.createElement(prefix === "sites" ? "tbody" : "div");
    holder.innerHTML = html;
    const row = holder.firstElementChild;
    box.appendChild(row);
    const next = Math.max(0, ...rows(screen, prefix).map(lineOf)) + 1;
    setLine(row, next);
    total(screen, prefix).value = String(rows(screen, prefix).length);
    const empty = screen.querySelector('[data-empty-rows="' + prefix + '"]');
    if (empty) empty.hidden = true;
    if (window.htmx) window.htmx.process(row);
    return row;
  }

  // Rows are numbered as shown: removing one renumbers the rest, and what pointed at them.
  function renumberLines(screen, prefix) {
    const moved = {};
    rows(screen, prefix).forEach(function (row, index) {
      moved[String(lineOf(row))] = String(index + 1);
      setLine(row, index + 1);
    });
    const [pointing, name] =
      prefix === "injectates" ? ["sites", "injectate_line"] : ["effects", "site_line"];
    if (prefix === "effects") return;
    rows(screen, pointing).forEach(function (row) {
      const select = field(row, name);
      if (select && select.value) {
        select.dataset.chosen = moved[select.value] || "";
      }
    });
  }

  function removeRow(button) {
    const screen = screenOf(button);
    const row = button.closest("[data-row]");
    const prefix = row.dataset.row;
    const form = formOf(screen);
    row.remove();
    renumberIndices(screen, prefix);
    renumberLines(screen, prefix);
    refresh(screen);
    changed(form);
    saveDraft(screen);
  }

  // The injectate each site names and the site each side effect names, offered from the
  // rows on the screen.
  function refreshChoices(screen) {
    const injectateLines = rows(screen, "injectates").map(lineOf);
    rows(screen, "sites").forEach(function (row) {
      const select = field(row, "injectate_line");
      const wanted = select.dataset.chosen || select.value;
      select.replaceChildren(
        ...injectateLines.map(function (line) {
          const option = new Option(String(line), String(line));
          return option;
        })
      );
      if (injectateLines.map(String).includes(wanted)) select.value = wanted;
      select.dataset.chosen = select.value;
    });
    const siteLines = rows(screen, "sites").map(lineOf);
    rows(screen, "effects").forEach(function (row) {
      const select = field(row, "site_line");
      const wanted = select.dataset.chosen || select.value;
      select.replaceChildren(
        new Option("—", ""),
        ...siteLines.map(function (line) {
          return new Option(String(line), String(line));
        })
      );
      select.value = siteLines.map(String).includes(wanted) ? wanted : "";
      select.dataset.chosen = select.value;
    });
  }

  // ----- injectates ----------------------------------------------------------------------

  function showKind(row) {
    const kind = (field(row, "kind") || {}).value || "";
    row.dataset.kind = kind;
    row.querySelectorAll("[data-for-kind]").forEach(function (block) {
      block.hidden = !kind || !block.dataset.forKind.split(" ").includes(kind);
    });
  }

  function applyPreset(screen, row, productId) {
    const preset = data(screen, "presets-data")[productId];
    if (!preset) return;
    setValue(field(row, "product"), productId);
    setValue(field(row, "kind"), preset.kind);
    Object.keys(preset).forEach(function (name) {
      if (name !== "kind") setValue(field(row, name), preset[name]);
    });
    showKind(row);
  }

  // ----- sites ---------------------------------------------------------------------------

  function fillStructures(screen, row) {
    const region = field(row, "body_region").value;
    const select = row.querySelector("[data-structure]");
    const wanted = select.value;
    const known = data(screen, "structures-data")[region] || [];
    const options = [new Option("Choose…", "")];
    known.forEach(function (structure) {
      const option = new Option(structure.name, structure.name);
      option.dataset.snomed = structure.snomed;
      option.dataset.tissue = structure.tissue;
      option.dataset.laterality = structure.laterality;
      options.push(option);
    });
    options.push(new Option("Other…", OTHER));
    select.replaceChildren(...options);
    if (Array.from(select.options).some((o) => o.value === wanted)) select.value = wanted;
    showOther(row);
  }

  function showOther(row) {
    const select = row.querySelector("[data-structure]");
    const other = row.querySelector("[data-structure-other]");
    const none = select.options.length <= 2; // a region without usual structures
    other.hidden = !(select.value === OTHER || none);
    if (none && select.value === "") select.value = OTHER;
  }

  function chooseStructure(row) {
    const select = row.querySelector("[data-structure]");
    const option = select.selectedOptions[0];
    showOther(row);
    if (select.value === OTHER) {
      row.querySelector("[data-structure-other]").focus();
      return;
    }
    if (!option || !option.value) return;
    setValue(field(row, "snomed_code"), option.dataset.snomed || "");
    if (option.dataset.tissue) setValue(field(row, "tissue"), option.dataset.tissue);
    if (option.dataset.laterality) setValue(field(row, "laterality"), option.dataset.laterality);
  }

  function addSite(button) {
    const screen = screenOf(button);
    const before = rows(screen, "sites");
    const previous = before.length ? field(before[before.length - 1], "injectate_line").value : "";
    const row = addRow(screen, "sites");
    row.dataset.view = button.dataset.view || "";
    setValue(field(row, "body_region"), button.dataset.region);
    setValue(field(row, "laterality"), button.dataset.laterality);
    fillStructures(screen, row);
    const select = field(row, "injectate_line");
    select.dataset.chosen = previous;
    refresh(screen);
    changed(row);
    saveDraft(screen);
    // The new row in the middle of the window, with room below it for a warning about it.
    row.querySelector("[data-structure]").focus({ preventScroll: true });
    row.scrollIntoView({ block: "center" });
  }

  // Numbered dots where each site is, on the view it was added from (front by default).
  function drawDots(screen) {
    screen.querySelectorAll("[data-dots]").forEach((box) => box.replaceChildren());
    const placed = {};
    rows(screen, "sites").forEach(function (row) {
      const region = field(row, "body_region").value;
      let side = field(row, "laterality").value;
      const middle = side !== "left" && side !== "right";
      if (middle) side = "right";
      const selector = '[data-spot][data-region="' + region + '"][data-laterality="' + side + '"]';
      const spots = Array.from(screen.querySelectorAll(selector)).filter((s) => s.dataset.view);
      const spot = spots.find((s) => s.dataset.view === row.dataset.view) || spots[0];
      if (!spot) return;
      const key = spot.dataset.view + spot.style.left + spot.style.top;
      const nth = placed[key] || 0;
      placed[key] = nth + 1;
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.textContent = String(lineOf(row));
      // As on the chart's small figure: a column of up to three under the spot (over it near
      // the feet), then a column further out, never onto the other side.
      const left = middle ? "50%" : spot.style.left;
      const down = parseFloat(spot.style.top) > 80 ? -1 : 1;
      const out = parseFloat(left) < 50 ? -1 : 1;
      dot.style.left = "calc(" + left + " + " + Math.floor(nth / 3) * 20 * out + "px)";
      dot.style.top = "calc(" + spot.style.top + " + " + (nth % 3) * 20 * down + "px)";
      screen.querySelector('[data-dots="' + spot.dataset.view + '"]').appendChild(dot);
    });
  }

  function refresh(screen) {
    refreshChoices(screen);
    drawDots(screen);
  }

  // ----- barcodes ------------------------------------------------------------------------

  function looksScanned(text) {
    return /^\](C1|d2|Q3|e0)/.test(text) || text.includes(GS) || /^01\d{14}/.test(text) ||
      /^\(\d{2,4}\)/.test(text);
  }

  function readScan(input) {
    const screen = screenOf(input);
    const row = input.closest("[data-row]");
    const text = input.value;
    if (!looksScanned(text)) return;
    const message = row.querySelector("[data-scan-message]");
    const url = screen.dataset.gs1Url + "?code=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((answer) => answer.json())
      .then(function (read) {
        if (read.error) {
          message.textContent = read.error;
          return;
        }
        if (!read.scanned) return;
        message.textContent = "";
        if (read.product && !field(row, "product").value) applyPreset(screen, row, read.product);
        setValue(input, read.lot);
        const expiry = field(row, "expiry_date");
        if (read.expiry) setValue(expiry, read.expiry);
        expiry.dispatchEvent(new Event("change", { bubbles: true }));
        saveDraft(screen);
      })
      .catch(function () {
        message.textContent = "The barcode could not be read now; type the lot and expiry.";
      });
  }

  // ----- drafts kept in this browser -----------------------------------------------------

  function values(form) {
    return Array.from(form.elements)
      .filter((el) => el.name && el.name !== "csrfmiddlewaretoken" && el.type !== "submit")
      .map((el) => [el.name, el.type === "checkbox" ? el.checked : el.value]);
  }

  function saveDraft(screen) {
    const key = screen.dataset.draftKey;
    const form = formOf(screen);
    if (!key || !form || !screen.isConnected) return; // saved and gone: nothing to keep
    const views = rows(screen, "sites").map((row) => row.dataset.view || "");
    try {
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), values: values(form), views }));
    } catch (error) {
      // A full or disabled storage: the form itself still holds what is typed.
    }
  }

  let saveTimer = null;
  function saveSoon(screen) {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => saveDraft(screen), 250);
  }

  function applyValues(form, pairs) {
    pairs.forEach(function ([name, value]) {
      if (/-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/.test(name)) return;
      const input = form.elements.namedItem(name);
      if (input && !(input instanceof RadioNodeList)) setValue(input, value);
    });
  }

  function restoreDraft(screen) {
    const key = screen.dataset.draftKey;
    let draft = null;
    try {
      draft = JSON.parse(localStorage.getItem(key) || "null");
    } catch (error) {
      draft = null;
    }
    if (!draft || !Array.isArray(draft.values)) return;
    const form = formOf(screen);
    const sent = new Map(draft.values);
    PREFIXES.forEach(function (prefix) {
      const wanted = parseInt(sent.get(prefix + "-TOTAL_FORMS") || "0", 10);
      while (rows(screen, prefix).length > wanted) rows(screen, prefix).pop().remove();
      while (rows(screen, prefix).length < wanted) addRow(screen, prefix);
      total(screen, prefix).value = String(wanted);
    });
    applyValues(form, draft.values);
    rows(screen, "sites").forEach(function (row, index) {
      row.dataset.view = (draft.views || [])[index] || "";
      fillStructures(screen, row);
    });
    rows(screen, "sites").forEach(function (row) {
      field(row, "injectate_line").dataset.chosen = sent.get(field(row, "injectate_line").name);
    });
    rows(screen, "effects").forEach(function (row) {
      field(row, "site_line").dataset.chosen = sent.get(field(row, "site_line").name) || "";
    });
    refresh(screen);
    applyValues(form, draft.values); // structures and choices now exist
    rows(screen, "injectates").forEach(showKind);
    rows(screen, "sites").forEach(function (row) {
      row.querySelectorAll("[data-line-label]").forEach((l) => (l.textContent = lineOf(row)));
      showOther(row);
    });
    rows(screen, "injectates").concat(rows(screen, "effects")).forEach(function (row) {
      row.querySelectorAll("[data-line-label]").forEach((l) => (l.textContent = lineOf(row)));
    });
    showNewCourse(screen);
    drawDots(screen);
    const notice = screen.querySelector("[data-draft-notice]");
    const when = new Date(draft.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    notice.querySelector("[data-draft-text]").textContent =
      "What you typed at " + when + " is back; it is not saved yet.";
    notice.hidden = false;
    changed(form);
  }

  function clearDrafts(root) {
    const own = root.matches && root.matches("[data-clear-draft]") ? [root] : [];
    if (own.length) clearTimeout(saveTimer);
    own.concat(Array.from(root.querySelectorAll("[data-clear-draft]"))).forEach(function (node) {
      try {
        localStorage.removeItem(node.dataset.clearDraft);
      } catch (error) {
        // nothing kept
      }
    });
  }

  // ----- the screen ----------------------------------------------------------------------

  function showNewCourse(screen) {
    const course = screen.querySelector('[name="course"]');
    const block = screen.querySelector("[data-new-course]");
    if (course && block) block.hidden = course.value !== "new";
  }

  function init(screen) {
    if (screen.dataset.ready) return;
    screen.dataset.ready = "1";
    rows(screen, "injectates").forEach(showKind);
    rows(screen, "sites").forEach(showOther);
    showNewCourse(screen);
    if ("fresh" in screen.dataset) restoreDraft(screen);
    refresh(screen);
    const summary = screen.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  function initAll(root) {
    clearDrafts(root);
    const screens = root.matches && root.matches("[data-session-screen]") ? [root] : [];
    screens.concat(Array.from(root.querySelectorAll("[data-session-screen]"))).forEach(init);
  }

  document.addEventListener("DOMContentLoaded", () => initAll(document));
  // Leaving the page (a reload, a closed tab) keeps the last keys typed too.
  window.addEventListener("pagehide", function () {
    clearTimeout(saveTimer);
    document.querySelectorAll("[data-session-screen][data-draft-key]").forEach(saveDraft);
  });
  document.addEventListener("htmx:load", (event) => initAll(event.detail.elt));

  document.addEventListener("click", function (event) {
    const target = event.target.closest("button");
    if (!target || !screenOf(target)) return;
    const screen = screenOf(target);
    if (target.matches("[data-spot]")) {
      addSite(target);
    } else if (target.matches("[data-add-row]")) {
      const row = addRow(screen, target.dataset.addRow);
      if (row.dataset.row === "injectates") showKind(row);
      refresh(screen);
      changed(row);
      saveDraft(screen);
      const first = row.querySelector("select, input:not([type=hidden])");
      if (first) first.focus();
    } else if (target.matches("[data-remove-row]")) {
      removeRow(target);
    } else if (target.matches("[data-discard-draft]")) {
      localStorage.removeItem(screen.dataset.draftKey);
      window.location.reload();
    }
  });

  document.addEventListener("change", function (event) {
    const input = event.target;
    const screen = screenOf(input);
    if (!screen) return;
    const row = input.closest("[data-row]");
    if (input.matches("[data-add-preset]") && input.value) {
      const added = addRow(screen, "injectates");
      applyPreset(screen, added, input.value);
      input.value = "";
      refresh(screen);
      changed(added);
      const lot = field(added, "lot_number");
      if (lot) lot.focus();
    } else if (row && input.name.endsWith("-product") && input.value) {
      applyPreset(screen, row, input.value);
    } else if (row && input.name.endsWith("-kind")) {
      showKind(row);
    } else if (row && input.matches("[data-structure]")) {
      chooseStructure(row);
    } else if (row && input.name.endsWith("-body_region")) {
      fillStructures(screen, row);
      drawDots(screen);
    } else if (row && input.name.endsWith("-laterality")) {
      drawDots(screen);
    } else if (row && input.name.endsWith("-lot_number")) {
      readScan(input);
    } else if (input.name === "course") {
      showNewCourse(screen);
    }
    if (input.dataset.chosen !== undefined) input.dataset.chosen = input.value;
    saveSoon(screen);
  });

  let scanTimer = null;
  document.addEventListener("input", function (event) {
    const input = event.target;
    const screen = screenOf(input);
    if (!screen) return;
    if (input.name && input.name.endsWith("-lot_number") && looksScanned(input.value)) {
      // A scanner types quickly and may send no Enter: read the code once it pauses.
      clearTimeout(scanTimer);
      scanTimer = setTimeout(() => readScan(input), 200);
    }
    saveSoon(screen);
  });

  // Enter in a field never sends the whole form: a scanner ends its code with Enter, and a
  // half-filled session must not be saved by a key press. In the lot field it reads the code.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    const input = event.target;
    if (!screenOf(input) || !input.closest("[data-session-form]")) return;
    if (input.tagName === "INPUT" && !["submit", "button"].includes(input.type)) {
      event.preventDefault();
      if (input.name.endsWith("-lot_number")) {
        clearTimeout(scanTimer);
        readScan(input);
      }
    }
  });

  // Sending: say so, and keep everything on the screen if the connection drops.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("[data-session-form]")) return;
    const screen = screenOf(form);
    saveDraft(screen);
    screen.querySelector("[data-saving]").hidden = false;
    screen.querySelector("[data-connection-error]").hidden = true;
  });

  function failed(event) {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("[data-session-form]")) return;
    const screen = screenOf(form);
    screen.querySelector("[data-saving]").hidden = true;
    const message = screen.querySelector("[data-connection-error]");
    message.textContent =
      "Not saved: the clinic's server could not be reached. Everything you typed is still " +
      "here (and kept in this browser); press Save again when the connection is back.";
    message.hidden = false;
    message.focus();
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);
})();
