// The desk's grid. A free time opens the booking dialog; a booking opens its own. A booking is
// moved by dragging it (pointer events) or from the keyboard: Space picks it up, the arrows move
// it 15 minutes or one column, Enter drops it, Escape puts it back. "Place on the grid" puts a
// proposal where the next free time is clicked (or chosen with the arrows and Enter). The
// arrows move between free times; [ and ] go to the previous and next day, t to today.
// Every write goes to the server, which answers with the grid as it now is.
(function () {
  "use strict";

  const SLOT_MINUTES = 15;
  let drag = null; // a booking held by the pointer
  let picked = null; // a booking held by the keyboard
  let placing = null; // a proposal waiting for its time
  let suppressClickUntil = 0;
  let focusAfterSwap = null;
  let opener = null;

  const byId = (id) => document.getElementById(id);
  const say = (text) => {
    const live = byId("desk-live");
    if (live) live.textContent = text;
  };

  function typing(target) {
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  // -- Dialogs --------------------------------------------------------------------------------

  function openDialog() {
    const host = byId("dialog-host");
    const dialog = host && host.querySelector("dialog[data-dialog]");
    if (!dialog || dialog.open) return;
    dialog.showModal();
    const first =
      dialog.querySelector("[aria-invalid=true]") ||
      dialog.querySelector("[data-autofocus]") ||
      dialog.querySelector("input, select, button");
    if (first) first.focus();
  }

  function closeDialog() {
    const host = byId("dialog-host");
    if (!host) return;
    host.querySelectorAll("dialog").forEach((dialog) => dialog.open && dialog.close());
    host.replaceChildren();
  }

  function restoreFocus() {
    const target =
      (focusAfterSwap && document.querySelector(focusAfterSwap)) ||
      (opener && document.body.contains(opener) ? opener : null);
    focusAfterSwap = null;
    if (target) target.focus();
  }

  // The line of the time now moves on from when the server drew it (the page, or a swap).
  function markNow() {
    const at = String(Date.now());
    document.querySelectorAll("[data-now]:not([data-drawn])").forEach((line) => {
      line.dataset.drawn = at;
    });
  }
  markNow();

  document.addEventListener("htmx:afterSettle", function (event) {
    markNow();
    openDialog();
    const desk = byId("desk");
    if (desk && (event.target === desk || !document.body.contains(event.target))) {
      const notice = desk.querySelector("[data-notice]");
      if (notice) say(notice.textContent.replace(/\s+/g, " ").trim());
      if (!byId("dialog-host").querySelector("dialog")) restoreFocus();
    }
  });

  document.body.addEventListener("desk-done", function () {
    closeDialog();
  });

  // Escape (or Close) ends a dialog: its content goes, focus returns where it was.
  document.addEventListener(
    "close",
    function (event) {
      if (event.target.matches && event.target.matches("dialog[data-dialog]")) {
        const host = byId("dialog-host");
        if (host) host.replaceChildren();
        restoreFocus();
      }
    },
    true,
  );

  function load(url, source) {
    opener = source;
    window.htmx.ajax("GET", url, { source: source, target: "#dialog-host", swap: "innerHTML" });
  }

  // -- The grid's geometry --------------------------------------------------------------------

  function gridOf(element) {
    return element.closest("[data-grid]");
  }

  function columns(grid) {
    return Array.from(grid.querySelectorAll("[data-column]:not(.closed)"));
  }

  function rowHeight(column) {
    return column.getBoundingClientRect().height / Number(gridOf(column).dataset.rows);
  }

  function timeOf(grid, row) {
    const [hours, minutes] = grid.dataset.opens.split(":").map(Number);
    const at = Math.floor(hours * 60 + minutes + row * SLOT_MINUTES);
    const pad = (n) => String(n).padStart(2, "0");
    return pad(Math.floor(at / 60)) + ":" + pad(at % 60);
  }

  function startsAt(column, row) {
    return column.dataset.day + "T" + timeOf(gridOf(column), row);
  }

  function describe(column, row) {
    const grid = gridOf(column);
    const where = grid.dataset.view === "week" ? column.dataset.dayLabel : column.dataset.clinicianName;
    return where + ", " + timeOf(grid, row);
  }

  function clampRow(column, row, rows) {
    const last = Number(gridOf(column).dataset.rows) - Math.ceil(rows - 0.001);
    return Math.max(0, Math.min(last, row));
  }

  function showGhost(column, row, rows, label) {
    let ghost = document.querySelector(".ghost");
    if (!ghost) {
      ghost = document.createElement("div");
      ghost.className = "ghost";
      ghost.setAttribute("aria-hidden", "true");
    }
    if (ghost.parentElement !== column) column.appendChild(ghost);
    ghost.style.top = "calc(var(--row-h) * " + row + ")";
    ghost.style.height = "calc(var(--row-h) * " + rows + ")";
    ghost.textContent = timeOf(gridOf(column), row) + " · " + label;
  }

  function removeGhost() {
    const ghost = document.querySelector(".ghost");
    if (ghost) ghost.remove();
  }

  function move(url, column, row, source) {
    window.htmx.ajax("POST", url, {
      source: source,
      target: "#desk",
      swap: "outerHTML",
      values: { starts_at: startsAt(column, row), clinician: column.dataset.clinician },
    });
  }

  // -- Clicks: a free time, a booking, a proposal to place -----------------------------------

  document.addEventListener("click", function (event) {
    const cell = event.target.closest("[data-cell]");
    if (cell) {
      event.preventDefault();
      const desk = byId("desk");
      if (placing) return placeAt(cell);
      if (!desk || desk.dataset.canChange !== "true") return;
      const column = cell.closest("[data-column]");
      const query = new URLSearchParams({
        clinician: column.dataset.clinician,
        starts_at: startsAt(column, Number(cell.dataset.row)),
      });
      load(desk.dataset.bookUrl + "?" + query.toString(), cell);
      return;
    }
    const block = event.target.closest("[data-block]");
    if (block) {
      if (Date.now() < suppressClickUntil || picked) return;
      load(block.dataset.detailUrl, block);
      return;
    }
    const place = event.target.closest("[data-place]");
    if (place) startPlacing(place);
  });

  // -- Placing a proposal ---------------------------------------------------------------------

  function startPlacing(button) {
    const desk = byId("desk");
    placing = { url: button.dataset.moveUrl, minutes: Number(button.dataset.minutes) || 30 };
    desk.classList.add("placing");
    const bar = desk.querySelector("[data-placing-bar]");
    bar.hidden = false;
    bar.textContent =
      "Choose a time for " + button.dataset.label + " (" + button.dataset.kind + "): click a " +
      "free time on the grid, or move with the arrows and press Enter. Escape stops.";
    say(bar.textContent);
    const first = desk.querySelector("[data-cell][tabindex='0']") || desk.querySelector("[data-cell]");
    if (first) first.focus();
  }

  function stopPlacing() {
    placing = null;
    const desk = byId("desk");
    if (!desk) return;
    desk.classList.remove("placing");
    const bar = desk.querySelector("[data-placing-bar]");
    if (bar) bar.hidden = true;
  }

  function placeAt(cell) {
    const column = cell.closest("[data-column]");
    const id = placing.url.match(/follow-ups\/(\d+)\//);
    focusAfterSwap = id ? "#follow-up-" + id[1] : null;
    move(placing.url, column, Number(cell.dataset.row), cell);
    stopPlacing();
  }

  // -- Dragging a booking ---------------------------------------------------------------------

  function targetAt(grid, x, y, rows) {
    const all = columns(grid);
    if (!all.length) return null;
    let column = all[0];
    let best = Infinity;
    for (const candidate of all) {
      const rect = candidate.getBoundingClientRect();
      const distance = x < rect.left ? rect.left - x : x > rect.right ? x - rect.right : 0;
      if (distance < best) {
        best = distance;
        column = candidate;
      }
    }
    const top = column.getBoundingClientRect().top;
    return { column: column, row: clampRow(column, Math.round((y - top) / rowHeight(column)), rows) };
  }

  document.addEventListener("pointerdown", function (event) {
    const block = event.target.closest("[data-block][data-move-url]");
    if (!block || event.button !== 0 || picked || placing) return;
    const rect = block.getBoundingClientRect();
    drag = {
      block: block,
      x: event.clientX,
      y: event.clientY,
      grab: event.clientY - rect.top,
      pointer: event.pointerId,
      moving: false,
      target: null,
    };
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    if (!drag.moving) {
      if (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 6) return;
      drag.moving = true;
      drag.block.classList.add("dragging");
      try {
        drag.block.setPointerCapture(drag.pointer);
      } catch (error) {
        // released meanwhile: the next pointerup ends the drag
      }
    }
    event.preventDefault();
    const rows = Number(drag.block.dataset.rows);
    drag.target = targetAt(gridOf(drag.block), event.clientX, event.clientY - drag.grab, rows);
    if (drag.target) showGhost(drag.target.column, drag.target.row, rows, drag.block.dataset.label);
  });

  function endDrag(event) {
    if (!drag) return;
    const held = drag;
    drag = null;
    held.block.classList.remove("dragging");
    removeGhost();
    if (!held.moving) return; // a click: it opens the booking
    suppressClickUntil = Date.now() + 400;
    if (event.type !== "pointerup" || !held.target) return;
    const origin = held.block.closest("[data-column]");
    const row = Math.round(Number(held.block.dataset.top));
    if (held.target.column === origin && held.target.row === row) return;
    focusAfterSwap = "#" + held.block.id;
    move(held.block.dataset.moveUrl, held.target.column, held.target.row, held.block);
  }

  document.addEventListener("pointerup", endDrag);
  document.addEventListener("pointercancel", endDrag);

  // -- The keyboard ---------------------------------------------------------------------------

  function pick(block) {
    const column = block.closest("[data-column]");
    picked = {
      block: block,
      column: column,
      row: Math.round(Number(block.dataset.top)),
      rows: Number(block.dataset.rows),
    };
    block.classList.add("picked");
    showGhost(column, picked.row, picked.rows, block.dataset.label);
    say(
      "Picked up " + block.dataset.label + ". Arrows move it, Enter drops it at " +
        describe(column, picked.row) + ", Escape puts it back.",
    );
  }

  function unpick() {
    if (!picked) return;
    picked.block.classList.remove("picked");
    picked = null;
    removeGhost();
  }

  function step(key) {
    const grid = gridOf(picked.column);
    const all = columns(grid);
    if (key === "ArrowUp") picked.row = clampRow(picked.column, picked.row - 1, picked.rows);
    if (key === "ArrowDown") picked.row = clampRow(picked.column, picked.row + 1, picked.rows);
    if (key === "ArrowLeft" || key === "ArrowRight") {
      const at = all.indexOf(picked.column) + (key === "ArrowLeft" ? -1 : 1);
      if (at >= 0 && at < all.length) picked.column = all[at];
    }
    showGhost(picked.column, picked.row, picked.rows, picked.block.dataset.label);
    say(describe(picked.column, picked.row));
  }

  function drop() {
    const held = picked;
    const origin = held.block.closest("[data-column]");
    const row = Math.round(Number(held.block.dataset.top));
    unpick();
    if (held.column === origin && held.row === row) {
      say("Not moved.");
      return;
    }
    focusAfterSwap = "#" + held.block.id;
    move(held.block.dataset.moveUrl, held.column, held.row, held.block);
  }

  function nextCell(cell, key) {
    const column = cell.closest("[data-column]");
    const row = Number(cell.dataset.row);
    if (key === "ArrowUp" || key === "ArrowDown") {
      const cells = Array.from(column.querySelectorAll("[data-cell]"));
      const at = cells.indexOf(cell) + (key === "ArrowUp" ? -1 : 1);
      return cells[at] || null;
    }
    const all = columns(gridOf(column));
    let at = all.indexOf(column);
    for (;;) {
      at += key === "ArrowLeft" ? -1 : 1;
      if (at < 0 || at >= all.length) return null;
      const cells = Array.from(all[at].querySelectorAll("[data-cell]"));
      if (!cells.length) continue;
      return cells.reduce((a, b) =>
        Math.abs(Number(b.dataset.row) - row) < Math.abs(Number(a.dataset.row) - row) ? b : a,
      );
    }
  }

  const ARROWS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"];

  document.addEventListener("keydown", function (event) {
    if (picked) {
      if (ARROWS.includes(event.key)) {
        event.preventDefault();
        step(event.key);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        drop();
      } else if (event.key === "Escape" || event.key === "Tab") {
        if (event.key === "Escape") event.preventDefault();
        unpick();
        say("Put back.");
      }
      return;
    }
    if (placing && event.key === "Escape" && !document.querySelector("dialog[open]")) {
      event.preventDefault();
      stopPlacing();
      say("Stopped placing.");
      return;
    }
    const target = event.target;
    const block = target.closest && target.closest("[data-block][data-move-url]");
    if (block && (event.key === " " || event.key === "m") && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      pick(block);
      return;
    }
    if (target.matches && target.matches("[data-cell]") && ARROWS.includes(event.key)) {
      event.preventDefault();
      const next = nextCell(target, event.key);
      if (next) {
        target.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
      return;
    }
    // Enter in a dialog's patient search looks, it does not book.
    if (event.key === "Enter" && target.matches && target.matches("input[type=search]") && target.closest("form")) {
      event.preventDefault();
      return;
    }
    if (typing(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    const shortcut = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (shortcut) {
      event.preventDefault();
      shortcut.click();
    }
  });

  // A button would act on Space's release: a picked-up booking must not open its dialog.
  document.addEventListener("keyup", function (event) {
    if (event.key === " " && event.target.closest && event.target.closest("[data-block]")) {
      event.preventDefault();
    }
  });

  // -- The time now ---------------------------------------------------------------------------

  window.setInterval(function () {
    document.querySelectorAll("[data-now]").forEach(function (line) {
      const minutes = (Date.now() - Number(line.dataset.drawn || Date.now())) / 60000;
      const rows = Number(line.dataset.rows) + minutes / SLOT_MINUTES;
      const grid = gridOf(line);
      if (!grid || rows >= Number(grid.dataset.rows)) {
        line.remove();
        return;
      }
      line.style.top = "calc(var(--row-h) * " + rows.toFixed(3) + ")";
      const label = line.querySelector("span");
      if (label) label.textContent = timeOf(grid, rows);
    });
  }, 60000);
})();
