// /staff/dashboard/: the night at a glance (CONTRACT.md sections 7 and 9). Every figure is the server's
// night report (GET /api/reports/night/), drawn with Chart.js (static/vendor/chartjs, a classic script that
// sets window.Chart). While the current business day is shown, an order or payment event on /ws/staff/
// fetches the report again: the page never adds numbers up itself, so it cannot drift from the report
// or the CSV. A past night is a fixed record: its events are ignored.
import { staffCalls } from "./calls.js";
import { $, ApiError, api, connectLive, fill, h, liveIndicator, TIME_ZONE, toLogin, won } from "./common.js";

const REFRESH_AFTER_MS = 500; // events within this window share one fetch
const REFRESH_SHARE = 5; // at a busy peak, the page waits 5x its last report's time: at most a fifth of a worker
const REFRESH_EVERY_MS = 5 * 60_000; // the current day also rolls over at BUSINESS_DAY_STARTS
const CHANGES = new Set(["order.created", "order.paid", "order.updated", "payment.received", "payment.resolved"]);
const STATION_LABEL = { kitchen: "주방", bar: "바" };
const STATION_COLOR = { kitchen: "#e8590c", bar: "#7c3aed" };
const ATTENTION = { unmatched: "매칭 안 됨", ambiguous: "후보 여러 건", needs_refund: "환불 필요" };
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const Chart = window.Chart;
const dateInput = $("#report-date");

const state = {
  date: null, // null: the current business day (live); else "YYYY-MM-DD" of a past night
  today: null, // the current business day, as the server counts it
  report: null,
  loads: 0, // the latest request; older answers are dropped
  timer: null,
  took: 0, // ms the last report took to arrive
  openPayments: null, // today: the payments still needing a person (GET /api/payments/?open=true)
};
const charts = {}; // data-chart name -> Chart

// --- formatting -------------------------------------------------------------------------------------

/** 123000 -> "12.3만", for bar labels and axis ticks; exact amounts are in the tooltips and the tiles. */
function manwon(amount) {
  if (Math.abs(amount) < 10_000) return Number(amount).toLocaleString("ko-KR");
  const value = Math.round(amount / 1_000) / 10;
  return `${value.toLocaleString("ko-KR", { maximumFractionDigits: 1 })}만`;
}

function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const value = Math.round(seconds / 6) / 10;
  return `${value.toLocaleString("ko-KR", { maximumFractionDigits: 1 })}분`;
}

/** "2026-11-29T18:00:00+09:00" -> 18: the server's local hour, whatever this browser's time zone. */
function hourOf(iso) {
  return Number(iso.slice(11, 13));
}

/** "2026-11-29T06:00:00+09:00" -> "11월 29일 06:00" */
function dayTime(iso) {
  return `${Number(iso.slice(5, 7))}월 ${Number(iso.slice(8, 10))}일 ${iso.slice(11, 16)}`;
}

// --- charts -----------------------------------------------------------------------------------------

/** Values written at the end of each bar: readable across the room without hovering. */
const valueLabels = {
  id: "valueLabels",
  afterDatasetsDraw(chart, _args, options) {
    if (chart.config.type !== "bar" || !options.format) return;
    const { ctx } = chart;
    const horizontal = chart.options.indexAxis === "y";
    const meta = chart.getDatasetMeta(0);
    ctx.save();
    ctx.font = `800 ${options.size || 15}px ${Chart.defaults.font.family}`;
    ctx.fillStyle = "#292524";
    ctx.textAlign = horizontal ? "left" : "center";
    ctx.textBaseline = horizontal ? "middle" : "bottom";
    meta.data.forEach((bar, index) => {
      const value = chart.data.datasets[0].data[index];
      if (!value) return;
      const text = options.format(value);
      if (horizontal) ctx.fillText(text, bar.x + 8, bar.y);
      else ctx.fillText(text, bar.x, bar.y - 6);
    });
    ctx.restore();
  },
};

function setupChartDefaults() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 15;
  Chart.defaults.color = "#44403c";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.display = false;
  Chart.defaults.plugins.tooltip.padding = 12;
  Chart.defaults.plugins.tooltip.titleFont = { size: 15, weight: "700" };
  Chart.defaults.plugins.tooltip.bodyFont = { size: 15 };
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) Chart.defaults.animation = false;
  else Chart.defaults.animation.duration = 400;
}

function byHourConfig(rows) {
  return {
    type: "bar",
    data: {
      labels: rows.map((row) => `${hourOf(row.hour)}시`),
      datasets: [
        {
          label: "순매출",
          data: rows.map((row) => row.net),
          orders: rows.map((row) => row.orders),
          backgroundColor: "#e8590c",
          borderRadius: 6,
          maxBarThickness: 72,
        },
      ],
    },
    options: {
      layout: { padding: { top: 8 } },
      scales: {
        x: { grid: { display: false }, ticks: { font: { size: 16, weight: "700" } } },
        y: { beginAtZero: true, grace: "12%", ticks: { callback: (value) => manwon(value), maxTicksLimit: 6 } },
      },
      plugins: {
        valueLabels: { format: manwon },
        tooltip: {
          callbacks: {
            label: (item) => ` 순매출 ${won(item.raw)} · 주문 ${item.dataset.orders[item.dataIndex]}건`,
          },
        },
      },
    },
    plugins: [valueLabels],
  };
}

function topItemsConfig(rows) {
  return {
    type: "bar",
    data: {
      labels: rows.map((row) => row.name),
      datasets: [
        {
          label: "수량",
          data: rows.map((row) => row.quantity),
          net: rows.map((row) => row.net),
          backgroundColor: "#f59e0b",
          borderRadius: 6,
          maxBarThickness: 40,
        },
      ],
    },
    options: {
      indexAxis: "y",
      layout: { padding: { right: 48 } }, // room for the count written after the longest bar
      scales: {
        x: { beginAtZero: true, grace: "15%", ticks: { precision: 0, maxTicksLimit: 6 } },
        y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: 16, weight: "700" } } },
      },
      plugins: {
        valueLabels: { format: (value) => `${value}개` },
        tooltip: {
          callbacks: {
            label: (item) => ` ${item.raw}개 · 순매출 ${won(item.dataset.net[item.dataIndex])}`,
          },
        },
      },
    },
    plugins: [valueLabels],
  };
}

function byStationConfig(rows) {
  return {
    type: "doughnut",
    data: {
      labels: rows.map((row) => STATION_LABEL[row.station] || row.station),
      datasets: [
        {
          label: "순매출",
          data: rows.map((row) => row.net),
          backgroundColor: rows.map((row) => STATION_COLOR[row.station] || "#a8a29e"),
          borderColor: "#fff",
          borderWidth: 3,
          hoverOffset: 6,
        },
      ],
    },
    options: {
      cutout: "58%",
      plugins: {
        tooltip: { callbacks: { label: (item) => ` ${item.label} ${won(item.raw)}` } },
      },
    },
  };
}

/** Draw (or redraw in place) one chart; an empty night shows words instead of empty axes. */
function draw(name, rows, build) {
  const figure = document.querySelector(`[data-chart="${name}"]`);
  const empty = !rows.length;
  figure.classList.toggle("is-empty", empty);
  if (empty) {
    figure.querySelector(".chart-empty").textContent = state.date === null ? "아직 주문이 없습니다" : "이 영업일에는 주문이 없습니다";
    charts[name]?.destroy();
    delete charts[name];
    return;
  }
  const config = build(rows);
  const chart = charts[name];
  if (chart) {
    chart.data.labels = config.data.labels;
    Object.assign(chart.data.datasets[0], config.data.datasets[0]);
    chart.update();
  } else {
    charts[name] = new Chart(figure.querySelector("canvas"), config);
  }
}

// --- rendering --------------------------------------------------------------------------------------

function setKpi(name, text) {
  const node = document.querySelector(`[data-kpi="${name}"]`);
  if (node.textContent !== text) node.textContent = text;
}

function countOutcomes(events) {
  const counts = {};
  for (const event of events) counts[event.outcome] = (counts[event.outcome] || 0) + 1;
  return counts;
}

function renderKpis(report) {
  setKpi("net", won(report.net));
  $('[data-kpi="net"]').classList.toggle("is-long", won(report.net).length > 10);
  setKpi("net-detail", `총매출 ${won(report.gross)} · 환불 ${won(report.refunds)}`);
  setKpi("orders", `${report.orders.toLocaleString("ko-KR")}건`);
  setKpi("orders-detail", report.orders ? `주문당 ${won(Math.round(report.net / report.orders))}` : "완료된 주문만 셉니다");
  setKpi("ticket-avg", minutes(report.ticket_seconds?.avg));
  setKpi("ticket-p90", minutes(report.ticket_seconds?.p90));
  setKpi("pending", `${report.pending_pre_orders}건`);
  $('[data-kpi-card="pending"]').classList.toggle("is-warn", report.pending_pre_orders > 0);

  // Today: those still waiting for a person (staff resolve the rest); another day: what that night received.
  const payments = state.openPayments ? countOutcomes(state.openPayments) : report.payments || {};
  const matched = report.payments?.matched || 0;
  const attention = Object.keys(ATTENTION).reduce((sum, outcome) => sum + (payments[outcome] || 0), 0);
  setKpi("attention", `${attention}건`);
  const parts = Object.entries(ATTENTION)
    .filter(([outcome]) => payments[outcome])
    .map(([outcome, label]) => `${label} ${payments[outcome]}`);
  setKpi("attention-detail", parts.length ? parts.join(" · ") : `자동 매칭 ${matched}건`);
  $('[data-kpi-card="attention"]').classList.toggle("is-alert", attention > 0);
  $("#attention-link").hidden = !(attention > 0 && state.date === null);
}

function renderStations(rows) {
  const table = $("#station-table");
  const sold = rows.some((row) => row.quantity);
  fill(
    table,
    sold
      ? rows.map((row) =>
          h(
            "tr",
            { dataset: { station: row.station } },
            h(
              "th",
              { scope: "row" },
              h("i", { class: "swatch", style: `background:${STATION_COLOR[row.station] || "#a8a29e"}` }),
              STATION_LABEL[row.station] || row.station,
            ),
            h("td", {}, `${row.quantity}개`),
            h("td", { class: "amount" }, won(row.net)),
          ),
        )
      : null,
  );
}

function renderHead(report) {
  const live = state.date === null;
  const mode = $("#dash-mode");
  mode.hidden = live;
  mode.textContent = live ? "" : "지난 영업일";
  const updated = new Date().toLocaleTimeString("ko-KR", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
    timeZone: TIME_ZONE,
  });
  $("#dash-window").textContent = `${dayTime(report.from)} ~ ${dayTime(report.to)} · ${live ? "실시간" : "기록"} · ${updated} 기준`;
  if (document.activeElement !== dateInput) dateInput.value = report.date; // never under a person's typing
  if (state.today) dateInput.max = state.today;
  $("#report-today").hidden = live;
  $("#report-csv").href = `/api/reports/night.csv?date=${report.date}`;
  $("#report-csv").setAttribute("download", `night-${report.date}.csv`);
}

function render(report) {
  renderHead(report);
  renderKpis(report);
  draw("by_hour", report.by_hour, byHourConfig);
  draw("top_items", report.top_items, topItemsConfig);
  const stations = report.by_station.filter((row) => row.quantity || row.net);
  draw("by_station", stations, byStationConfig);
  renderStations(report.by_station);
}

// --- loading ----------------------------------------------------------------------------------------

async function load() {
  clearTimeout(state.timer);
  state.timer = null;
  const mine = ++state.loads;
  const date = state.date;
  const error = $("#dash-error");
  try {
    const began = performance.now();
    const [report, open] = await Promise.all([
      api(`/api/reports/night/${date ? `?date=${date}` : ""}`),
      date === null ? api("/api/payments/?open=true") : null,
    ]);
    state.took = performance.now() - began;
    if (mine !== state.loads) return; // the date changed (or a newer fetch went out) meanwhile
    state.openPayments = open;
    if (date === null) state.today = report.date;
    state.report = report;
    error.hidden = true;
    render(report);
  } catch (failure) {
    if (mine !== state.loads) return;
    if (failure instanceof ApiError && failure.code === "not_authenticated") {
      toLogin();
      return;
    }
    error.textContent = `매출을 불러오지 못했습니다. ${failure.detail || ""}`;
    error.hidden = false;
    $("#report-today").hidden = state.date === null; // a way back from a date the server refused
  } finally {
    if (mine === state.loads) $("#dashboard").setAttribute("aria-busy", "false");
  }
}

/** A burst of events (a busy minute) costs one fetch, not one each; the first is not held back long. */
function refreshSoon() {
  if (state.date !== null || state.timer) return;
  state.timer = setTimeout(load, Math.max(REFRESH_AFTER_MS, REFRESH_SHARE * state.took));
}

function showDate(value) {
  state.date = !value || value === state.today ? null : value;
  const url = new URL(location.href);
  if (state.date) url.searchParams.set("date", state.date);
  else url.searchParams.delete("date");
  history.replaceState(null, "", url);
  $("#dashboard").setAttribute("aria-busy", "true");
  load();
}

const calls = staffCalls($("#calls"));

function onMessage(msg) {
  if (calls.handle(msg)) return;
  if (msg.type === "snapshot") calls.snapshot(msg.calls || []);
  // A snapshot comes after every (re)connect: events may have been missed while away.
  if (msg.type === "snapshot" || CHANGES.has(msg.type)) refreshSoon();
}

/** A night asked for in the address (?date=, kept by the date picker): live if it is in fact today. */
async function firstLoad() {
  const asked = new URLSearchParams(location.search).get("date");
  if (asked && DAY.test(asked)) {
    try {
      state.today = (await api("/api/reports/night/")).date;
    } catch {
      // load() below says what is wrong
    }
    state.date = asked === state.today ? null : asked;
  }
  await load();
}

function start() {
  setupChartDefaults();
  dateInput.addEventListener("change", () => {
    if (DAY.test(dateInput.value)) showDate(dateInput.value);
  });
  $("#report-today").addEventListener("click", () => showDate(null));
  firstLoad();
  setInterval(refreshSoon, REFRESH_EVERY_MS);

  const indicator = liveIndicator($("#live"));
  connectLive("/ws/staff/", {
    onMessage,
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "denied") toLogin();
    },
  });
}

start();
