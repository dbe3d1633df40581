// Staff calls on the staff screens (CONTRACT.md section 8): every open call its own card, oldest first (the
// table that has waited longest is the first to go to), until someone acknowledges it on any screen. The
// snapshot after every (re)connect is the truth; staff.called and staff.call_acked change it in between.
import { api, clock, fill, h, toLogin, toast, uuid } from "./common.js";

// Banners over a board or a staff page: the longest-waiting few, so that open calls never push the tickets
// off a kitchen screen; the rest are counted on one line below them.
const SHOWN_AT_ONCE = 3;

function waited(since, now) {
  const minutes = Math.floor((now - new Date(since).getTime()) / 60_000);
  return minutes < 1 ? "방금" : `${minutes}분째`;
}

/**
 * The open calls shown in `container`. `onNew()` runs for a call that arrives live, and after a reconnect
 * that found calls made while away (not on the first load). `onChange()` runs after every change (a page's
 * own counts). `item` is each call's element: a card by default (the board, the menu and the dashboard), the
 * floor's list rows otherwise. `now()` is the server's time as the page knows it.
 */
export function staffCalls(
  container,
  {
    onNew = () => {},
    onChange = () => {},
    now = () => Date.now(),
    item = { tag: "div", class: "call-banner", role: "alert" },
    buttonClass = "btn",
    shown = SHOWN_AT_ONCE,
  } = {},
) {
  const calls = new Map(); // call id -> open StaffCall
  const acking = new Set(); // ids with an acknowledgement in flight
  const keys = new Map(); // id -> Idempotency-Key until the ack is answered: a second tap after a lost answer is the same ack
  let snapshots = 0;
  let expanded = false; // every call shown, on request

  /** The calls past the first few, as one line naming their tables: a tap shows them all (or folds them). */
  function moreLine(rest) {
    const tables = [...new Set(rest.map((call) => call.table.name))];
    const names = tables.slice(0, 6).join(", ") + (tables.length > 6 ? " …" : "");
    const label = expanded ? "접기" : `직원 호출 ${rest.length}건 더 · ${names}`;
    return h(
      "button",
      { type: "button", class: "calls-more", "aria-expanded": String(expanded), onclick: () => ((expanded = !expanded), render()) },
      label,
    );
  }

  function render() {
    const open = [...calls.values()].sort((a, b) => (a.created_at === b.created_at ? a.id - b.id : a.created_at < b.created_at ? -1 : 1));
    if (open.length <= shown) expanded = false;
    const rest = open.length > shown ? open.slice(shown) : [];
    fill(
      container,
      (expanded ? open : open.slice(0, shown)).map((call) =>
        h(
          item.tag,
          { class: item.class, role: item.role, dataset: { callId: call.id, tableId: call.table.id } },
          h("span", { class: "call-table" }, call.table.name),
          h("span", { class: "call-message", title: call.message || null }, call.message || "직원 호출"),
          h("span", { class: "call-time" }, clock(call.created_at), " · ", h("span", { dataset: { since: call.created_at } }, waited(call.created_at, now()))),
          h("button", { type: "button", class: buttonClass, disabled: acking.has(call.id), onclick: () => ack(call.id) }, "확인"),
        ),
      ),
      rest.length ? moreLine(rest) : null,
    );
    onChange();
  }

  async function ack(id) {
    if (acking.has(id)) return;
    acking.add(id);
    render();
    if (!keys.has(id)) keys.set(id, uuid());
    try {
      await api(`/api/staff-calls/${id}/ack/`, { method: "POST", idempotencyKey: keys.get(id) });
      calls.delete(id); // the staff.call_acked event clears it on every other screen
      keys.delete(id);
    } catch (error) {
      if (error.status === 404) calls.delete(id);
      else toast(error.detail, "error", 6000);
      if (error.status >= 400 && error.status < 500) keys.delete(id); // answered: a new tap is a new request
      if (error.code === "not_authenticated") toLogin(1500);
    } finally {
      acking.delete(id);
      render();
    }
  }

  setInterval(() => {
    for (const node of container.querySelectorAll("[data-since]")) node.textContent = waited(node.dataset.since, now());
  }, 15_000);

  return {
    calls,
    /** The snapshot's open calls, after every (re)connect. */
    snapshot(list) {
      const fresh = list.some((call) => !calls.has(call.id));
      calls.clear();
      for (const call of list) calls.set(call.id, call);
      if (fresh && snapshots > 0) onNew();
      snapshots += 1;
      render();
    },
    /** A socket message: true when it was about a call. */
    handle(msg) {
      if (msg.type === "staff.called") {
        calls.set(msg.call.id, msg.call);
        render();
        onNew();
        return true;
      }
      if (msg.type === "staff.call_acked") {
        calls.delete(msg.call.id);
        render();
        return true;
      }
      return false;
    },
  };
}
