// /staff/menu/: sold-out switches, stock, price and station edits (PATCH /api/foods/{id}/), live from
// /ws/kitchen/. The group headers' counts are recomputed from `foods` after every change.
import { staffCalls } from "./calls.js";
import { $, api, connectLive, h, liveIndicator, toast, toLogin, won } from "./common.js";

const GROUPS = [
  ["menu", "메뉴"],
  ["drinks", "음료"],
];
const STATIONS = [
  ["kitchen", "주방"],
  ["bar", "바"],
];
const foods = new Map(); // id -> Food
const busy = new Set();
const errors = new Map(); // id -> message

function row(id) {
  return document.querySelector(`.menu-row[data-food-id="${id}"]`);
}

function numberOrNull(value) {
  const text = String(value).trim();
  return text === "" ? null : Number(text);
}

function dirtyFields(id) {
  const food = foods.get(id);
  const tr = row(id);
  if (!food || !tr) return {};
  const changes = {};
  const price = numberOrNull(tr.querySelector("[name=price]").value);
  const stock = numberOrNull(tr.querySelector("[name=stock]").value);
  if (price !== null && price !== food.price) changes.price = price;
  if (stock !== food.stock) changes.stock = stock;
  return changes;
}

function markDirty(id) {
  const tr = row(id);
  const changes = dirtyFields(id);
  tr.querySelector("[name=price]").classList.toggle("dirty", "price" in changes);
  tr.querySelector("[name=stock]").classList.toggle("dirty", "stock" in changes);
  tr.querySelector("[data-action=save]").disabled = busy.has(id) || !Object.keys(changes).length;
}

function foodRow(food) {
  const id = food.id;
  const onKey = (event) => {
    if (event.key === "Enter") save(id);
    if (event.key === "Escape") {
      errors.delete(id);
      replaceRow(foods.get(id), { force: true });
    }
  };
  return h(
    "tr",
    { class: `menu-row${food.sold_out ? " is-sold-out" : ""}`, dataset: { foodId: id } },
    h(
      "td",
      {},
      h("div", { class: "menu-name" }, food.name),
      food.description ? h("div", { class: "menu-desc" }, food.description) : null,
      errors.has(id) ? h("div", { class: "row-error", role: "alert" }, errors.get(id)) : null,
    ),
    h(
      "td",
      { dataset: { label: "가격" } },
      h(
        "label",
        { class: "num-field" },
        h("input", {
          type: "number",
          name: "price",
          min: "0",
          step: "500",
          inputmode: "numeric",
          value: String(food.price),
          "aria-label": `${food.name} 가격`,
          oninput: () => markDirty(id),
          onkeydown: onKey,
        }),
        h("span", { class: "unit" }, "원"),
      ),
    ),
    h(
      "td",
      { dataset: { label: "남은 수량" } },
      h(
        "label",
        { class: "num-field" },
        h("input", {
          type: "number",
          name: "stock",
          min: "0",
          step: "1",
          inputmode: "numeric",
          placeholder: "세지 않음",
          value: food.stock === null ? "" : String(food.stock),
          "aria-label": `${food.name} 남은 수량`,
          oninput: () => markDirty(id),
          onkeydown: onKey,
        }),
        h("span", { class: "unit" }, "개"),
      ),
    ),
    h(
      "td",
      { dataset: { label: "판매 상태" } },
      h(
        "label",
        { class: "switch" },
        h("input", {
          type: "checkbox",
          role: "switch",
          name: "sold_out",
          checked: food.sold_out,
          disabled: busy.has(id),
          "aria-label": `${food.name} 품절`,
          onchange: (event) => setSoldOut(id, event.target.checked),
        }),
        h("span", { class: "switch-track", "aria-hidden": "true" }),
        h("span", { class: "switch-label" }, food.sold_out ? "품절" : "판매중"),
      ),
    ),
    h(
      "td",
      { dataset: { label: "준비하는 곳" } },
      h(
        "select",
        {
          name: "station",
          class: `station-select station-${food.station}`,
          disabled: busy.has(id),
          "aria-label": `${food.name} 준비하는 곳`,
          onchange: (event) => setStation(id, event.target.value),
        },
        STATIONS.map(([value, label]) => h("option", { value, selected: food.station === value }, label)),
      ),
    ),
    h(
      "td",
      { class: "cell-actions" },
      h("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { action: "save" }, disabled: true, onclick: () => save(id) }, "저장"),
    ),
  );
}

/** Re-render a row from the latest food, keeping what staff are typing unless `force`. */
function replaceRow(food, { force = false, flash = false } = {}) {
  const old = row(food.id);
  if (!old) return render();
  const typed = force ? null : { price: old.querySelector("[name=price]"), stock: old.querySelector("[name=stock]") };
  const keep = typed && { price: typed.price.classList.contains("dirty"), stock: typed.stock.classList.contains("dirty") };
  const focused = document.activeElement?.closest(".menu-row") === old ? document.activeElement.name : null;
  const fresh = foodRow(food);
  if (keep?.price) fresh.querySelector("[name=price]").value = typed.price.value;
  if (keep?.stock) fresh.querySelector("[name=stock]").value = typed.stock.value;
  old.replaceWith(fresh);
  markDirty(food.id);
  if (focused) fresh.querySelector(`[name=${focused}]`)?.focus();
  if (flash) fresh.classList.add("flash");
  renderCounts();
}

/** "8개 · 품절 1 · 바 3": from the foods as they are now, so a switch or an event never leaves them stale. */
function groupCounts(category) {
  const items = [...foods.values()].filter((food) => food.category === category);
  const soldOut = items.filter((food) => food.sold_out).length;
  const parts = [`${items.length}개`];
  if (soldOut) parts.push(`품절 ${soldOut}`);
  for (const [station, label] of STATIONS) {
    const count = items.filter((food) => food.station === station).length;
    if (count && count !== items.length) parts.push(`${label} ${count}`);
  }
  return parts.join(" · ");
}

function renderCounts() {
  for (const [category] of GROUPS) {
    const node = document.querySelector(`[data-counts="${category}"]`);
    if (node) node.textContent = groupCounts(category);
  }
}

function render() {
  const box = $("#menu-groups");
  box.replaceChildren(
    ...GROUPS.map(([category, label]) => {
      const items = [...foods.values()].filter((food) => food.category === category);
      return h(
        "section",
        { class: "menu-group", dataset: { category } },
        h("h2", {}, label, h("span", { class: "group-counts muted small", dataset: { counts: category } }, groupCounts(category))),
        h(
          "div",
          { class: "card" },
          h(
            "table",
            { class: "menu-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", {}, "메뉴"),
                h("th", {}, "가격"),
                h("th", {}, "남은 수량"),
                h("th", {}, "판매 상태"),
                h("th", {}, "준비하는 곳"),
                h("th", {}, ""),
              ),
            ),
            h("tbody", {}, items.map(foodRow)),
          ),
        ),
      );
    }),
  );
}

const FIELD_LABEL = { price: "가격", stock: "남은 수량", sold_out: "판매 상태", station: "준비하는 곳" };

/** A refused value (400 invalid) named by its column: "가격: 이 값이 10000000보다 작거나 …". */
function fieldsSaid(error) {
  const fields = error.code === "invalid" ? Object.entries(error.body?.errors || {}) : [];
  return fields.map(([field, messages]) => `${FIELD_LABEL[field] || field}: ${messages[0]}`).join(" · ");
}

async function patch(id, body) {
  busy.add(id);
  errors.delete(id);
  replaceRow(foods.get(id));
  try {
    const food = await api(`/api/foods/${id}/`, { method: "PATCH", body });
    foods.set(id, food);
    return food;
  } catch (error) {
    const message = fieldsSaid(error) || error.detail;
    errors.set(id, message);
    if (error.code !== "out_of_stock") toast(message, "error");
    return null;
  } finally {
    busy.delete(id);
  }
}

async function setSoldOut(id, soldOut) {
  const food = await patch(id, { sold_out: soldOut });
  replaceRow(foods.get(id));
  if (food) toast(`${food.name}: ${food.sold_out ? "품절로 바꿨습니다" : "판매를 다시 시작합니다"}`, "success", 2500);
}

async function setStation(id, station) {
  const food = await patch(id, { station });
  replaceRow(foods.get(id));
  if (food) toast(`${food.name}: 이제 ${food.station === "bar" ? "바" : "주방"} 화면에 나옵니다 (새 주문부터)`, "success", 3000);
}

async function save(id) {
  const changes = dirtyFields(id);
  if (!Object.keys(changes).length || busy.has(id)) return;
  if (("price" in changes && !Number.isInteger(changes.price)) || ("stock" in changes && changes.stock !== null && !Number.isInteger(changes.stock))) {
    errors.set(id, "가격과 수량은 0 이상의 정수로 적어 주세요.");
    return replaceRow(foods.get(id));
  }
  const food = await patch(id, changes);
  replaceRow(foods.get(id), { force: Boolean(food) });
  if (food) toast(`${food.name}: 저장했습니다 (${won(food.price)}, ${food.stock === null ? "수량 세지 않음" : `${food.stock}개`})`, "success", 2500);
}

function setAll(list) {
  foods.clear();
  for (const food of list) foods.set(food.id, food);
  render();
}

function start() {
  const indicator = liveIndicator($("#live"));
  const calls = staffCalls($("#calls"));
  let snapshotSeen = false;
  api("/api/foods/")
    .then((list) => {
      if (!snapshotSeen) setAll(list);
    })
    .catch((error) => toast(error.detail, "error"));
  connectLive("/ws/kitchen/", {
    // A food change this page did not hear of (its food.updated lost while Redis was away): read them again.
    onMenuStale: () =>
      api("/api/foods/")
        .then(setAll)
        .catch(() => {}), // the next snapshot brings them anyway
    onMessage: (msg) => {
      if (calls.handle(msg)) return;
      if (msg.type === "snapshot") {
        snapshotSeen = true;
        setAll(msg.foods);
        calls.snapshot(msg.calls || []);
      } else if (msg.type === "food.updated") {
        const known = foods.has(msg.food.id);
        foods.set(msg.food.id, msg.food);
        if (known) replaceRow(msg.food, { flash: true });
        else render();
      }
    },
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "denied") toLogin();
    },
  });
}

start();
