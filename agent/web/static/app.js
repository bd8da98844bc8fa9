// hems status page: reads the JSON API, follows /api/events, sends controls with the token header.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "hems-token"; // localStorage, never a cookie: the browser never sends it by itself
  let currency = "EUR";
  let lastPlanAt = null;
  let planSpec = null;
  let controls = null;

  // ---- formatting -------------------------------------------------------------------------
  function power(w) {
    if (w === null || w === undefined) return "—";
    return Math.abs(w) >= 1000 ? (w / 1000).toFixed(2) + " kW" : w.toFixed(0) + " W";
  }
  function num(v, digits, unit) {
    return v === null || v === undefined ? "—" : Number(v).toFixed(digits) + (unit ? " " + unit : "");
  }
  function money(text) {
    return text === null || text === undefined ? "—" : Number(text).toFixed(2) + " " + currency;
  }
  function price(v) {
    return v === null || v === undefined ? "—" : Number(v).toFixed(3) + " " + currency + "/kWh";
  }
  function when(iso) {
    if (!iso) return "never";
    const d = new Date(iso);
    if (d.toDateString() === new Date().toDateString()) return d.toLocaleTimeString();
    return d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function slot(iso) {
    const d = new Date(iso);
    return d.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }
  function direction(f) {
    if (f.power_w === null || Math.abs(f.power_w) < 1) return "";
    const pos = f.power_w > 0;
    return { grid: pos ? "importing" : "exporting", battery: pos ? "charging" : "discharging", ev: pos ? "charging" : "discharging" }[f.key] || "";
  }
  function row(cells, cls) {
    const tr = document.createElement("tr");
    if (cls) tr.className = cls;
    for (const c of cells) {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }
  function badge(text) {
    const s = document.createElement("span");
    s.className = "badge " + text;
    s.textContent = text;
    return s;
  }
  async function getJson(path) {
    const r = await fetch(path, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }

  // ---- live part ----------------------------------------------------------------------------
  function renderLive(s) {
    currency = s.currency || currency;
    const mode = $("mode");
    mode.textContent = s.mode;
    mode.className = "badge " + s.mode;
    $("updated").textContent = "updated " + when(s.at);
    const flows = $("flows");
    flows.replaceChildren(...s.flows.map((f) => {
      const li = document.createElement("li");
      li.dataset.flow = f.key;
      const name = document.createElement("span");
      name.textContent = f.label;
      if (f.source !== "measured") name.title = f.source;
      const val = document.createElement("span");
      val.className = "v";
      val.textContent = power(f.power_w);
      const dir = document.createElement("span");
      dir.className = "dir";
      dir.textContent = direction(f) + (f.source === "planned" ? " (planned)" : f.source === "balance" ? " (balance)" : "");
      val.appendChild(dir);
      li.append(name, val);
      return li;
    }));
    const r = s.readings || {};
    const items = [];
    if ("battery_soc_pct" in r) items.push(["Battery SoC", num(r.battery_soc_pct, 0, "%")]);
    if ("ev_soc_pct" in r) items.push(["EV SoC", num(r.ev_soc_pct, 0, "%") + (r.ev_plugged === false ? " (unplugged)" : "")]);
    if ("indoor_c" in r) items.push(["Indoor", num(r.indoor_c, 1, "°C") + (s.heat_mode ? ` (${s.heat_mode})` : "")]);
    if ("tank_c" in r) items.push(["Tank", num(r.tank_c, 1, "°C")]);
    $("readings").replaceChildren(...items.flatMap(([k, v]) => {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      return [dt, dd];
    }));
    const p = s.prices || {};
    const kv = [["Buy from grid", price(p.import_price_per_kwh)], ["Sell to grid", price(p.export_price_per_kwh)], ["Marginal value", price(p.marginal_value_per_kwh)]];
    $("prices").replaceChildren(...kv.flatMap(([k, v]) => {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      return [dt, dd];
    }));
    $("timing").textContent = `cycle ${num(s.last_cycle_ms, 1, "ms")} · plan solve ${num(s.last_plan_ms, 0, "ms")} · ${s.cycles} cycles` +
      (s.last_plan_error ? " · plan error: " + s.last_plan_error : "");
    renderHealth(s.health);
    renderControls(s.controls);
    if (s.plan_at !== lastPlanAt) {
      lastPlanAt = s.plan_at;
      refreshPlan();
    }
  }

  function renderHealth(h) {
    const body = $("health").tBodies[0];
    body.replaceChildren(...Object.entries(h.devices).map(([name, d]) => {
      const tr = row([name, d.role || "", badge(d.state), when(d.last_seen)]);
      tr.dataset.device = name;
      if (d.last_error) tr.title = d.last_error;
      return tr;
    }));
  }

  function renderControls(c) {
    controls = c;
    const btn = $("pause");
    btn.textContent = c.paused ? "Resume optimizer" : "Pause optimizer";
    btn.className = c.paused ? "resume" : "";
    $("paused-state").textContent = c.paused ? "paused: devices follow safe rules" : "optimizing";
    // A choice the householder has made but not applied yet is not overwritten by live updates.
    if (!$("hold").dataset.edited) $("hold").checked = !!c.water_heater_hold;
    if (!$("ev-mode").dataset.edited) $("ev-mode").value = c.ev_mode || "smart";
    const problem = $("settings-problem");
    problem.hidden = !c.settings_problem;
    problem.textContent = c.settings_problem ? "saved settings not used: " + c.settings_problem : "";
  }

  // ---- plan chart ----------------------------------------------------------------------------
  async function refreshPlan() {
    let plan;
    try { plan = await getJson("/api/plan"); } catch (e) { return; }
    if (!plan.available) {
      $("plan-empty").hidden = false;
      $("plan-empty").textContent = "No plan: " + plan.reason;
      return;
    }
    $("plan-empty").hidden = true;
    currency = plan.currency || currency;
    $("plan-meta").textContent = `made ${when(plan.made_at)} (${plan.reason}) · expected cost ${plan.total_cost.toFixed(2)} ${currency}`;
    const panels = [
      { key: "price", title: "Price", unit: currency + "/kWh", series: [
        { cls: "import_price", label: "buy", values: plan.import_price_per_kwh },
        { cls: "export_price", label: "sell", values: plan.export_price_per_kwh },
        { cls: "marginal", label: "marginal value", values: plan.marginal_value_per_kwh }] },
      { key: "grid", title: "Grid", unit: "kW", zero: true, series: [
        { cls: "grid", label: "planned exchange", values: plan.grid_kw, kind: "bars" },
        { cls: "position", label: "forward position", values: plan.position_kw }] },
      { key: "soc", title: "State of charge", unit: "%", series: [
        { cls: "battery", label: "battery", values: plan.battery_soc_pct },
        { cls: "ev", label: "EV", values: plan.ev_soc_pct }] },
      { key: "indoor", title: "Indoor", unit: "°C", series: [{ cls: "indoor", label: "indoor", values: plan.indoor_c }],
        bands: plan.comfort_lo_c ? [{ cls: "indoor", lo: plan.comfort_lo_c, hi: plan.comfort_hi_c }] : [] },
      { key: "tank", title: "Tank", unit: "°C", series: [{ cls: "tank", label: "tank", values: plan.tank_c }],
        bands: plan.tank_min_c !== undefined ? [{ cls: "tank", lo: plan.tank_min_c, hi: plan.tank_max_c }] : [] },
    ];
    planSpec = { labels: plan.intervals, nowIndex: plan.now_index, panels };
    HemsChart.draw($("plan-chart"), planSpec);
    refreshMarket();
  }

  // ---- ledger-backed parts (slower: refreshed with the plan and every minute) ----------------
  async function refreshMarket() {
    try {
      const [pos, tx, book] = await Promise.all([getJson("/api/positions?duration=PT1H"), getJson("/api/transactions"), getJson("/api/tenders")]);
      const labels = pos.positions.map((p) => p.interval);
      HemsChart.draw($("position-chart"), { labels, nowIndex: null, panels: [
        { key: "position", title: "Position", unit: "kW", zero: true, series: [{ cls: "position", label: "bought − sold", values: pos.positions.map((p) => Number(p.position_kw)), kind: "bars" }] }] });
      const body = $("transactions").tBodies[0];
      const recent = tx.transactions.slice(-8);
      body.replaceChildren(...recent.map((t) => row([slot(t.interval.start) + " " + t.interval.duration, t.side, t.quantity_kw, Number(t.price).toFixed(3)])));
      $("tx-note").textContent = tx.count ? `${tx.count} transactions today and tomorrow` : "no transactions yet";
      const own = $("tenders").tBodies[0];
      own.replaceChildren(...book.own.map((t) => row([slot(t.interval.start) + " " + t.interval.duration, t.side, t.available_kw, Number(t.price).toFixed(3)])));
      $("book-note").textContent = book.link ? `${book.own.length} open · retailer offers ${book.offers.length} tenders` : "no retailer link configured";
    } catch (e) { /* the next refresh tries again */ }
  }

  async function refreshSlow() {
    try {
      const [today, month, fc] = await Promise.all([getJson("/api/bill?period=today"), getJson("/api/bill?period=month"), getJson("/api/forecast")]);
      currency = today.currency || currency;
      const lines = [["Forward", "forward"], ["Spot", "spot"], ["Transport", "transport"]];
      const body = $("bill").tBodies[0];
      const rows = lines.map(([label, key]) => row([label, money(today[key]), money(month[key])]));
      rows.push(row(["Total", money(today.total), money(month.total)], "total"));
      rows.push(row(["Flat tariff", money(today.flat.total), money(month.flat.total)]));
      const saving = Number(month.flat.saving);
      rows.push(row(["Saved", money(today.flat.saving), money(month.flat.saving)], "saving" + (saving < 0 ? " neg" : "")));
      body.replaceChildren(...rows);
      renderContract(today, month);
      $("bill-note").textContent = `flat: ${today.flat.tariff_per_kwh}/kWh import, ${today.flat.feed_in_per_kwh}/kWh export · metered today ${today.flat.import_kwh} kWh in, ${today.flat.export_kwh} kWh out`;
      const fbody = $("forecast").tBodies[0];
      const acc = fc.accuracy || {};
      const entries = Object.entries(acc).filter(([, v]) => v && typeof v === "object" && "all" in v);
      fbody.replaceChildren(...(entries.length ? entries.map(([q, v]) => row([q, num(v.all.mae, 3), num(v.all.bias, 3), String(v.all.count)]))
        : [row(["no measurements yet", "", "", ""])]));
    } catch (e) { /* the next refresh tries again */ }
  }

  // ---- the household contract (market.source: tariff) ---------------------------------------
  async function refreshTariff() {
    try {
      const t = await getJson("/api/tariff?hours=24");
      const card = $("tariff-card");
      card.hidden = !t.configured;
      if (!t.configured) return;
      $("tariff-name").textContent = t.name;
      const notice = $("tariff-notice");
      notice.textContent = t.notice;
      notice.className = "small" + (t.estimated_from || t.source.down ? " msg-err" : "");
      $("tariff-prices").tBodies[0].replaceChildren(...t.prices.map((p) =>
        row([slot(p.start), Number(p.import_per_kwh).toFixed(4), Number(p.export_per_kwh).toFixed(4), badge(p.state)], "price-" + p.state)));
    } catch (e) { /* the next refresh tries again */ }
  }

  function renderContract(today, month) {
    if (!today.contract || !month.contract) return;
    const amounts = (bill) => new Map(bill.lines.map((x) => [x.component + "/" + x.unit, x.amount]));
    const t = amounts(today.contract);
    const m = amounts(month.contract);
    const keys = [...new Set([...month.contract.lines, ...today.contract.lines].map((x) => x.component + "/" + x.unit))];
    const rows = keys.map((k) => row([k.split("/")[0], money(t.get(k) || "0"), money(m.get(k) || "0")]));
    rows.push(row(["Total", money(today.contract.total), money(month.contract.total)], "total"));
    $("contract-bill").tBodies[0].replaceChildren(...rows);
    $("contract-note").textContent = `billed at firm prices only · today ${today.contract.intervals} intervals, ${Number(today.contract.import_kwh).toFixed(3)} kWh in, ${Number(today.contract.export_kwh).toFixed(3)} kWh out`;
  }

  // ---- controls ------------------------------------------------------------------------------
  function message(text, ok) {
    const m = $("control-msg");
    m.textContent = text;
    m.className = "small " + (ok ? "msg-ok" : "msg-err");
  }

  async function send(body) {
    const token = $("token").value.trim();
    if (!token) { message("enter the access token first", false); return null; }
    localStorage.setItem(TOKEN_KEY, token);
    const r = await fetch("/api/controls", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify(body),
    });
    const answer = await r.json().catch(() => ({ error: "HTTP " + r.status }));
    if (!r.ok) { message(`${answer.field ? answer.field + ": " : ""}${answer.error}`, false); return null; }
    message("applied", true);
    for (const id of ["hold", "ev-mode"]) delete $(id).dataset.edited;
    renderControls(answer);
    return answer;
  }

  function collect() {
    const body = {};
    const dep = $("ev-departure").value;
    if (dep) body.ev_departure = new Date(dep).toISOString();
    const fields = [["ev-target", "ev_target_soc_pct"], ["ev-limit", "ev_current_limit_a"], ["comfort-target", "comfort_target_c"], ["comfort-band", "comfort_band_c"], ["boost", "water_heater_boost_h"]];
    for (const [id, key] of fields) {
      const v = $(id).value;
      if (v !== "") body[key] = Number(v);
    }
    if (controls && $("hold").checked !== !!controls.water_heater_hold) body.water_heater_hold = $("hold").checked;
    if (controls && $("ev-mode").value !== controls.ev_mode) body.ev_mode = $("ev-mode").value;
    return body;
  }

  function wireControls() {
    $("token").value = localStorage.getItem(TOKEN_KEY) || "";
    for (const id of ["hold", "ev-mode"]) $(id).addEventListener("change", () => { $(id).dataset.edited = "1"; });
    $("pause").addEventListener("click", () => send({ paused: !(controls && controls.paused) }));
    $("controls").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = collect();
      if (!Object.keys(body).length) { message("nothing to change", false); return; }
      send(body);
    });
  }

  // ---- live updates --------------------------------------------------------------------------
  function connect() {
    const live = $("live");
    const es = new EventSource("/api/events");
    es.addEventListener("open", () => { live.textContent = "live"; live.className = "badge on"; });
    es.addEventListener("error", () => { live.textContent = "reconnecting"; live.className = "badge off"; });
    es.addEventListener("status", (ev) => {
      const s = JSON.parse(ev.data);
      document.body.dataset.cycles = String(s.cycles);
      renderLive(s);
    });
  }

  async function start() {
    wireControls();
    try {
      const s = await getJson("/api/state");
      $("site").textContent = s.site_id;
      renderLive(s);
    } catch (e) { $("updated").textContent = "cannot reach the agent"; }
    refreshSlow();
    refreshTariff();
    setInterval(refreshSlow, 60000);
    setInterval(refreshTariff, 60000);
    setInterval(refreshMarket, 60000);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (planSpec) HemsChart.draw($("plan-chart"), planSpec); }, 150);
    });
    connect();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
