// The network dashboard: fetches the figures from the reporting API with the coordinator's token and
// draws them with Chart.js (served by this service). The page holds no data and computes no figure: every
// count, share, mean, trend and funnel comes from the API (rounded to fives there). The token is kept
// per tab (shared/page_assets/token.js).
// Words of the domain (categories, figures, denominators) come from the API's labels; the page's own
// words are below, in Dutch and English.
"use strict";

(function () {
  const stored = window.RuggengraatToken("ruggengraat.network.token");
  const LANG_KEY = "ruggengraat.network.lang";
  const COLOURS = ["#2f5d8a", "#c0504d", "#4f9a4f", "#8064a2", "#d38b1f", "#4aacc6", "#7f7f7f"];
  const NETWORK = "#2f5d8a";
  const PRACTICE = "#c0504d";
  const OTHERS = "#7d8894";
  const SUPPRESSED = "#6b6b6b";
  const DURATION = ["acute", "subacute", "chronic", "unknown"];
  const COURSE = ["normaal", "afwijkend", "not_classifiable", "unknown"];
  const ADHERENCE = ["intake_measured", "evaluations_measured", "evaluations_on_time"];
  const MCIC = ["mcic_qbpds", "mcic_nprs", "mcic_psk"];
  const MONTHS = {
    nl: ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
  };
  const TEXT = {
    nl: {
      title: "Regionaal rugnetwerk · kwaliteit per praktijk",
      intro:
        "Cijfers per praktijk (AGB-code) en maand van verwijzing, zonder patiënten, om praktijken te vergelijken" +
        " en de visitatie voor te bereiden.",
      protocol_link: "Protocol van het netwerk: wat een wijziging zou hebben veranderd →",
      token: "Toegangstoken",
      token_placeholder: "token van het netwerk of een praktijk",
      use_token: "Token gebruiken",
      forget_token: "Token vergeten",
      from: "Van",
      to: "Tot en met",
      practice: "Praktijk",
      all_practices: "alle praktijken",
      indicator: "Cijfer",
      apply: "Toepassen",
      export: "CSV exporteren",
      year: "Visitatiejaar",
      visitation: "Visitatierapport (PDF)",
      key_figures: "Kerncijfers",
      all_figures: "Alle cijfers",
      need_token: "Vul een toegangstoken in om de cijfers te zien.",
      loading: "Cijfers laden…",
      invalid_token: "Het token is niet geldig (of verlopen).",
      forbidden: "Met dit token mag u deze cijfers niet zien.",
      failed: "De cijfers konden niet worden geladen: ",
      forgotten: "Token vergeten.",
      choose_practice: "Kies eerst een praktijk voor het visitatierapport.",
      empty_period: "Geen episodes in {period}{who}. Kies een andere periode of praktijk.",
      status_network: "Alle {practices} praktijken van het netwerk, {period}: {episodes} episodes.",
      status_practice: "Praktijk {agb}, {period}: {episodes} episodes (het netwerk: {network}).",
      for_practice: " voor praktijk {agb}",
      all_time: "alle maanden",
      network: "netwerk",
      practice_named: "praktijk {agb}",
      other_practice: "andere praktijk",
      practices: "praktijken",
      mean: "netwerkgemiddelde",
      limit95: "95 %-grens",
      limit998: "99,8 %-grens",
      suppressed: "afgeschermd (minder dan 10 gevallen)",
      suppressed_short: "afgeschermd",
      figure: "Cijfer",
      denominator: "Noemer",
      cases: "aantal",
      cap_trend: "{label} per maand van verwijzing, met het netwerk als referentie",
      cap_funnel: "Trechterdiagram: {label} tegen het aantal {denominator}",
      cap_adherence: "Protocoltrouw per maand (%)",
      cap_mcic: "Klinisch relevante verbetering per maand (% van de episodes gemeten bij intake én evaluatie)",
      cap_change: "Gemiddelde verbetering per maand: QBPDS (0–100, linker as) en NPRS (0–10, rechter as)",
      cap_escalation: "Terugverwezen naar de verwijzer, naar reden (episodes per maand)",
      cap_duration: "Episodes naar duur van de klachten, per maand",
      cap_course: "Episodes naar beloop, per maand",
      note_counts: "Aantallen afgerond op vijftallen: 0 betekent 0 tot 4.",
      note_shares: "× op de as: afgeschermd, minder dan 10 gevallen in die maand.",
      no_funnel: "Geen trechterdiagram: te weinig gevallen, of een gemiddelde in plaats van een percentage.",
      no_escalations: "Geen terugverwijzingen in deze periode (afgerond).",
      col_practice: "praktijk",
      col_month: "maand",
      level_period: "hele periode",
      level_network: "netwerk",
      share_unit: "%",
      points: "punten",
    },
    en: {
      title: "Regional back network · quality per practice",
      intro:
        "Figures per practice (AGB code) and month of referral, without patients, to compare practices and" +
        " prepare the visitation.",
      protocol_link: "The network's protocol: what a change would have changed →",
      token: "Access token",
      token_placeholder: "token of the network or of a practice",
      use_token: "Use token",
      forget_token: "Forget token",
      from: "From",
      to: "To (inclusive)",
      practice: "Practice",
      all_practices: "all practices",
      indicator: "Figure",
      apply: "Apply",
      export: "Export CSV",
      year: "Visitation year",
      visitation: "Visitation report (PDF)",
      key_figures: "Key figures",
      all_figures: "All figures",
      need_token: "Enter an access token to see the figures.",
      loading: "Loading figures…",
      invalid_token: "The token is not valid (or expired).",
      forbidden: "This token may not see these figures.",
      failed: "The figures could not be loaded: ",
      forgotten: "Token forgotten.",
      choose_practice: "Choose a practice first for its visitation report.",
      empty_period: "No episodes in {period}{who}. Choose another period or practice.",
      status_network: "All {practices} practices of the network, {period}: {episodes} episodes.",
      status_practice: "Practice {agb}, {period}: {episodes} episodes (the network: {network}).",
      for_practice: " for practice {agb}",
      all_time: "all months",
      network: "network",
      practice_named: "practice {agb}",
      other_practice: "another practice",
      practices: "practices",
      mean: "network mean",
      limit95: "95 % limit",
      limit998: "99.8 % limit",
      suppressed: "suppressed (fewer than 10 cases)",
      suppressed_short: "suppressed",
      figure: "Figure",
      denominator: "Denominator",
      cases: "number",
      cap_trend: "{label} by month of referral, with the network as reference",
      cap_funnel: "Funnel plot: {label} against the number of {denominator}",
      cap_adherence: "Protocol adherence by month (%)",
      cap_mcic: "Clinically important improvement by month (% of episodes measured at intake and evaluation)",
      cap_change: "Mean improvement by month: QBPDS (0–100, left axis) and NPRS (0–10, right axis)",
      cap_escalation: "Referred back to the referrer, by reason (episodes per month)",
      cap_duration: "Episodes by duration of complaints, per month",
      cap_course: "Episodes by course, per month",
      note_counts: "Counts rounded to fives: 0 means 0 to 4.",
      note_shares: "× on the axis: suppressed, fewer than 10 cases that month.",
      no_funnel: "No funnel plot: too few cases, or a mean rather than a share.",
      no_escalations: "No referrals back in this period (rounded).",
      col_practice: "practice",
      col_month: "month",
      level_period: "whole period",
      level_network: "network",
      share_unit: "%",
      points: "points",
    },
  };
  const charts = {};
  let lastReport = null;
  const $ = (id) => document.getElementById(id);

  function lang() {
    const chosen = localStorage.getItem(LANG_KEY);
    return chosen === "en" ? "en" : "nl";
  }
  const t = (key, fill) =>
    Object.entries(fill || {}).reduce((text, [k, v]) => text.replaceAll("{" + k + "}", v), TEXT[lang()][key]);
  const words = () => (lastReport ? lastReport.labels[lang()] : null);

  const token = stored.get;

  function say(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function applyLanguage() {
    document.documentElement.lang = lang();
    document.body.dataset.lang = lang();
    document.title = t("title");
    for (const element of document.querySelectorAll("[data-text]")) element.textContent = t(element.dataset.text);
    $("token").placeholder = t("token_placeholder");
    for (const button of document.querySelectorAll("[data-lang-choice]")) {
      button.setAttribute("aria-pressed", String(button.dataset.langChoice === lang()));
    }
    offerIndicators();
  }

  function offerIndicators() {
    const select = $("indicator");
    const chosen = select.value || "intake_measured";
    select.replaceChildren();
    const labels = words();
    const keys = labels ? Object.keys(labels.indicator) : ["intake_measured"];
    for (const key of keys) select.add(new Option(labels ? labels.indicator[key].label : key, key));
    select.value = keys.includes(chosen) ? chosen : keys[0];
  }

  function filters() {
    const params = new URLSearchParams();
    for (const name of ["from", "to", "practice"]) {
      const value = $(name).value;
      if (value) params.set(name, value);
    }
    return params;
  }

  async function call(path) {
    const response = await fetch(path, { headers: { authorization: "Bearer " + token() } });
    if (response.status === 401) throw new Error(t("invalid_token"));
    if (response.status === 403) throw new Error(t("forbidden"));
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail || detail;
      } catch (ignored) {
        // not a problem document
      }
      throw new Error(t("failed") + detail);
    }
    return response;
  }

  function monthLabel(month) {
    const [year, number] = month.split("-");
    return MONTHS[lang()][Number(number) - 1] + " " + year;
  }

  function periodText(report) {
    if (!report.months.length) return t("all_time");
    const first = monthLabel(report.months[0]);
    const last = monthLabel(report.months[report.months.length - 1]);
    return first === last ? first : first + " – " + last;
  }

  function formatValue(figure, unit) {
    if (!figure) return "–";
    if (figure.value === null) return figure.suppressed ? t("suppressed_short") : "–";
    const text = lang() === "nl" ? String(figure.value).replace(".", ",") : String(figure.value);
    return unit === "%" ? text + " %" : text;
  }

  // Chart.js: a legend shows only series with something drawn (no empty legends), each with a swatch like
  // its mark: a line for a line, a box for a bar, a dot for a practice, a cross for a suppressed month.
  function legend() {
    return {
      position: "bottom",
      labels: {
        usePointStyle: true,
        sort: (a, b) => a.datasetIndex - b.datasetIndex,  // as listed, not as stacked for drawing
        generateLabels: (chart) =>
          Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
            const set = chart.data.datasets[item.datasetIndex];
            const type = set.type || chart.config.type;
            item.pointStyle = set.legendStyle || (type === "bar" ? "rect" : type === "scatter" && !set.showLine ? "circle" : "line");
            item.lineWidth = item.pointStyle === "line" ? 3 : 1;
            if (set.legendStyle === "crossRot") item.strokeStyle = item.fillStyle = SUPPRESSED;  // one entry for every colour
            return item;
          }),
        filter: (item, data) => {
          const set = data.datasets[item.datasetIndex];
          if (set.legendHidden) return false;
          return set.data.some((v) => v !== null && v !== undefined && (typeof v !== "number" || v !== 0));
        },
      },
    };
  }

  function draw(id, config, suppressedCount) {
    if (charts[id]) charts[id].destroy();
    const options = Object.assign(
      { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: legend() } },
      config.options || {},
    );
    charts[id] = new Chart($(id), { type: config.type, data: config.data, options: options });
    $(id).dataset.suppressed = String(suppressedCount || 0);
  }

  function series(label, values, colour, extra) {
    return Object.assign(
      // clip: false draws a line at 0 % or 100 % whole instead of halved by the chart's edge
      { label: label, data: values, borderColor: colour, backgroundColor: colour, spanGaps: false, pointRadius: 3, clip: false },
      extra || {},
    );
  }

  // Months whose figure is suppressed get a cross on the axis, with one legend entry for all crosses. In a
  // chart of several series each series has its crosses in its own colour, a little above the one before,
  // so a month where one series has a figure and another has none says which is which.
  function suppressedMarks(list, axis, top) {
    let count = 0;
    let legendGiven = false;
    const sets = list.map((entry, i) => {
      const marks = entry.figures.map((figure) => (figure && figure.suppressed ? i * (top || 100) * 0.06 : null));
      const here = marks.filter((v) => v !== null).length;
      count += here;
      const set = series(t("suppressed"), marks.map((v) => (v === null ? null : v + 0.0001)), entry.colour || SUPPRESSED, {
        type: "line",
        showLine: false,
        pointStyle: "crossRot",
        legendStyle: "crossRot",
        legendHidden: legendGiven || here === 0,
        pointRadius: 8,
        pointBorderWidth: 3,
        clip: false,
        yAxisID: axis || "y",
      });
      legendGiven = legendGiven || here > 0;
      return set;
    });
    return { sets: sets, count: count };
  }

  function focusFigures(report, key) {
    return report.trends[key].map((p) => (p.practice ? p.practice : p.network));
  }

  function sumRowsByMonth(report, name) {
    const totals = Object.fromEntries(report.months.map((m) => [m, 0]));
    for (const row of report.rows) if (row.month in totals) totals[row.month] += row.counts[name];
    return report.months.map((m) => totals[m]);
  }

  function shareAxis(unit, max) {
    return { beginAtZero: true, max: unit === "%" ? 100 : max, title: { display: true, text: unit } };
  }

  function focusName(report) {
    const agb = report.practice || (report.scope === "practice" && report.rows.length ? report.rows[0].practice_agb : null);
    return agb ? t("practice_named", { agb: agb }) : null;
  }

  function drawTrend(report, labels) {
    const key = $("indicator").value;
    const info = words().indicator[key];
    const points = report.trends[key];
    $("cap-trend").textContent = t("cap_trend", { label: info.label });
    // the network is the reference: dashed and beneath the practice's line, which would otherwise hide under it
    const datasets = [series(t("network"), points.map((p) => p.network.value), NETWORK, { borderDash: [6, 4], order: 2 })];
    const figures = points.map((p) => p.network);
    const focus = focusName(report);
    if (focus) {
      datasets.push(series(focus, points.map((p) => (p.practice ? p.practice.value : null)), PRACTICE, { order: 1, borderWidth: 3 }));
      points.forEach((p, i) => {
        if (p.practice && p.practice.suppressed) figures[i] = p.practice;
      });
    }
    const marks = suppressedMarks([{ figures: figures }]);
    datasets.push(...marks.sets);
    draw("chart-trend", { type: "line", data: { labels: labels, datasets: datasets }, options: { scales: { y: shareAxis(info.unit) } } }, marks.count);
    $("note-trend").textContent = info.label + " — " + t("denominator").toLowerCase() + ": " + info.denominator + ". " + t("note_shares");
  }

  function drawFunnel(report) {
    const key = $("indicator").value;
    const info = words().indicator[key];
    const funnel = report.funnels[key];
    $("cap-funnel").textContent = t("cap_funnel", { label: info.label, denominator: info.denominator });
    if (!funnel || funnel.mean === null || !funnel.points.length) {
      draw("chart-funnel", { type: "scatter", data: { datasets: [] }, options: { plugins: { legend: { display: false } } } }, 0);
      $("note-funnel").textContent = t("no_funnel");
      return;
    }
    const line = (side, name) => funnel.limits.map((l) => ({ x: l.n, y: l[side][name] }));
    const limitStyle = (colour, dash) => ({ type: "line", showLine: true, pointRadius: 0, borderWidth: 1.5, borderDash: dash, borderColor: colour, backgroundColor: colour });
    const others = funnel.points.filter((p) => !p.selected).map((p) => ({ x: p.n, y: p.value, agb: p.practice_agb }));
    const own = funnel.points.filter((p) => p.selected).map((p) => ({ x: p.n, y: p.value, agb: p.practice_agb }));
    const datasets = [
      Object.assign(series(t("mean"), funnel.limits.map((l) => ({ x: l.n, y: funnel.mean })), NETWORK), limitStyle(NETWORK, [])),
      Object.assign(series(t("limit95"), line("lower", "95"), "#d38b1f"), limitStyle("#d38b1f", [4, 3])),
      Object.assign(series(t("limit95"), line("upper", "95"), "#d38b1f"), limitStyle("#d38b1f", [4, 3]), { legendHidden: true }),
      Object.assign(series(t("limit998"), line("lower", "99.8"), "#7f7f7f"), limitStyle("#7f7f7f", [8, 4])),
      Object.assign(series(t("limit998"), line("upper", "99.8"), "#7f7f7f"), limitStyle("#7f7f7f", [8, 4]), { legendHidden: true }),
      series(t("practices"), others, OTHERS, { pointRadius: 5, clip: false }),
    ];
    if (own.length) datasets.push(series(focusName(report), own, PRACTICE, { pointRadius: 7, clip: false }));
    draw(
      "chart-funnel",
      {
        type: "scatter",
        data: { datasets: datasets },
        options: {
          plugins: {
            legend: legend(),
            tooltip: {
              callbacks: {
                label: (ctx) =>
                  (ctx.raw.agb ? t("practice_named", { agb: ctx.raw.agb }) : ctx.raw.agb === null ? t("other_practice") : ctx.dataset.label) +
                  ": " + ctx.raw.y + " % (" + ctx.raw.x + ")",
              },
            },
          },
          scales: {
            x: { type: "linear", beginAtZero: true, grace: "5%", title: { display: true, text: t("cases") + " " + info.denominator } },
            y: shareAxis("%"),
          },
        },
      },
      0,
    );
    $("note-funnel").textContent = "";
  }

  function drawShares(id, report, labels, keys, caption, note) {
    $("cap-" + id).textContent = caption;
    const datasets = [];
    const suppressed = [];
    keys.forEach((key, i) => {
      const points = focusFigures(report, key);
      const colour = COLOURS[(i + 2) % COLOURS.length];
      datasets.push(series(words().indicator[key].label, points.map((f) => f.value), colour));
      suppressed.push({ figures: points, colour: colour });
    });
    const marks = suppressedMarks(suppressed);
    datasets.push(...marks.sets);
    draw("chart-" + id, { type: "line", data: { labels: labels, datasets: datasets }, options: { scales: { y: shareAxis("%") } } }, marks.count);
    $("note-" + id).textContent = note;
  }

  function drawChange(report, labels) {
    $("cap-change").textContent = t("cap_change");
    const qbpds = focusFigures(report, "improvement_qbpds");
    const nprs = focusFigures(report, "improvement_nprs");
    const marks = suppressedMarks([{ figures: qbpds, colour: COLOURS[0] }, { figures: nprs, colour: COLOURS[1] }], "qbpds");
    draw(
      "chart-change",
      {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            series("QBPDS", qbpds.map((f) => f.value), COLOURS[0], { yAxisID: "qbpds" }),
            series("NPRS", nprs.map((f) => f.value), COLOURS[1], { yAxisID: "nprs", borderDash: [5, 3] }),
            ...marks.sets,
          ],
        },
        options: {
          scales: {
            qbpds: { position: "left", min: 0, max: 100, title: { display: true, text: "QBPDS (" + t("points") + ", 0–100)" } },
            nprs: { position: "right", min: 0, max: 10, grid: { drawOnChartArea: false }, title: { display: true, text: "NPRS (" + t("points") + ", 0–10)" } },
          },
        },
      },
      marks.count,
    );
    $("note-change").textContent = t("note_shares");
  }

  function drawCounts(id, report, labels, names, categoryLabels, caption) {
    $("cap-" + id).textContent = caption;
    const datasets = names.map((name, i) => series(categoryLabels[i], sumRowsByMonth(report, name), COLOURS[i % COLOURS.length]));
    const anything = datasets.some((d) => d.data.some((v) => v > 0));
    draw(
      "chart-" + id,
      {
        type: "bar",
        data: { labels: labels, datasets: datasets },
        options: {
          plugins: { legend: Object.assign(legend(), { display: anything }) },
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, grace: "5%", ticks: { stepSize: 5 } } },
        },
      },
      0,
    );
    $("note-" + id).textContent = anything ? t("note_counts") : id === "escalation" ? t("no_escalations") : t("note_counts");
  }

  function drawCharts(report) {
    const labels = report.months.map(monthLabel);
    const w = words();
    drawTrend(report, labels);
    drawFunnel(report);
    drawShares("adherence", report, labels, ADHERENCE, t("cap_adherence"), t("note_shares"));
    drawShares("mcic", report, labels, MCIC, t("cap_mcic"), t("note_shares"));
    drawChange(report, labels);
    const reasons = Object.keys(w.reason);
    drawCounts("escalation", report, labels, reasons.map((r) => "reason:" + r), reasons.map((r) => w.reason[r]), t("cap_escalation"));
    drawCounts("duration", report, labels, DURATION.map((c) => "duration:" + c), DURATION.map((c) => w.duration[c]), t("cap_duration"));
    drawCounts("course", report, labels, COURSE.map((c) => "course:" + c), COURSE.map((c) => w.course[c]), t("cap_course"));
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function header(table, names) {
    const head = table.createTHead().insertRow();
    for (const name of names) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
  }

  function drawKeyFigures(report) {
    const table = $("key-figures");
    table.replaceChildren();
    const w = words();
    const own = report.practices.length === 1 && (report.practice || report.scope === "practice") ? report.practices[0] : null;
    const names = [t("figure")];
    if (own) names.push(t("practice_named", { agb: own.practice_agb }), t("denominator"));
    names.push(t("network"), t("denominator"));
    header(table, names);
    const body = table.createTBody();
    for (const [key, info] of Object.entries(w.indicator)) {
      const row = body.insertRow();
      cell(row, info.label, "label");
      const add = (figure) => {
        cell(row, formatValue(figure, info.unit), figure.suppressed ? "suppressed" : "");
        cell(row, figure.denominator + " " + info.denominator, "denominator");
      };
      if (own) add(own.figures[key]);
      add(report.network.figures[key]);
    }
  }

  function drawTable(report) {
    const table = $("figures");
    table.replaceChildren();
    const w = words();
    const counts = [["episodes", w.terms.episodes]];
    DURATION.forEach((c) => counts.push(["duration:" + c, w.duration[c]]));
    COURSE.forEach((c) => counts.push(["course:" + c, w.course[c]]));
    counts.push(["escalated", w.terms.escalated], ["evaluations_due", w.terms.evaluations_due]);
    const indicators = Object.entries(w.indicator);
    header(table, [t("col_practice"), t("col_month")].concat(counts.map((c) => c[1]), indicators.map(([, i]) => i.label + (i.unit === "%" ? " (%)" : ""))));
    const body = table.createTBody();
    const line = (practice, month, block, className) => {
      const row = body.insertRow();
      if (className) row.className = className;
      cell(row, practice, "text");
      cell(row, month, "text");
      for (const [name] of counts) cell(row, String(block.counts[name]));
      for (const [key, info] of indicators) {
        const figure = block.figures[key];
        cell(row, formatValue(figure, info.unit).replace(" %", ""), figure.suppressed ? "suppressed" : "");
      }
    };
    for (const row of report.rows) line(row.practice_agb, monthLabel(row.month), row);
    for (const total of report.practices) line(total.practice_agb, t("level_period"), total, "total");
    line(t("level_network"), t("level_period"), report.network, "total");
  }

  function offerPractices(report) {
    const select = $("practice");
    const known = new Set(Array.from(select.options).map((o) => o.value));
    const practices = new Set(report.rows.map((r) => r.practice_agb));
    for (const point of Object.values(report.funnels).flatMap((f) => f.points)) if (point.practice_agb) practices.add(point.practice_agb);
    for (const practice of [...practices].sort()) {
      if (!known.has(practice)) select.add(new Option(practice, practice));
    }
  }

  function render() {
    const report = lastReport;
    if (!report) return;
    applyLanguage();
    $("method").textContent = words().terms.method;
    const focus = report.practice || (report.scope === "practice" ? report.practices.map((p) => p.practice_agb)[0] : null);
    const own = report.practices.find((p) => p.practice_agb === focus);
    const episodes = focus ? (own ? own.counts.episodes : 0) : report.network.counts.episodes;
    if (!episodes) {
      $("charts").hidden = true;
      $("overview").hidden = true;
      $("table-section").hidden = true;
      for (const id of Object.keys(charts)) {
        charts[id].destroy();
        delete charts[id];
      }
      say(t("empty_period", { period: periodText(report), who: focus ? t("for_practice", { agb: focus }) : "" }));
      document.body.dataset.state = "empty-period";
      return;
    }
    $("charts").hidden = false;
    $("overview").hidden = false;
    $("table-section").hidden = false;
    drawKeyFigures(report);
    drawCharts(report);
    drawTable(report);
    if (focus) {
      say(t("status_practice", { agb: focus, period: periodText(report), episodes: episodes, network: report.network.counts.episodes }));
    } else {
      say(t("status_network", { practices: report.practices.length, period: periodText(report), episodes: episodes }));
    }
    if (!$("year").value && report.months.length) $("year").value = report.months[report.months.length - 1].slice(0, 4);
    document.body.dataset.state = "drawn";
  }

  async function load() {
    if (!token()) {
      say(t("need_token"), true);
      return;
    }
    document.body.dataset.state = "loading";
    say(t("loading"));
    try {
      const report = await (await call("/v1/network/quality?" + filters())).json();
      lastReport = report;
      offerPractices(report);
      document.body.dataset.scope = report.practice || (report.scope === "practice" ? "own" : "all");
      render();
    } catch (error) {
      document.body.dataset.state = "error";
      say(error.message, true);
    }
  }

  async function download(path, name, open) {
    const blob = await (await call(path)).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    if (open) link.target = "_blank";
    else link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  async function exportCsv() {
    try {
      const params = filters();
      params.set("lang", lang());
      await download("/v1/network/quality.csv?" + params, "netwerk-kwaliteit.csv", false);
    } catch (error) {
      say(error.message, true);
    }
  }

  async function visitation() {
    const practice = $("practice").value || (lastReport && lastReport.scope === "practice" && lastReport.practices.length ? lastReport.practices[0].practice_agb : "");
    const year = $("year").value || String(new Date().getFullYear());
    if (!practice) {
      say(t("choose_practice"), true);
      return;
    }
    try {
      await download(`/v1/network/practices/${practice}/visitation?year=${encodeURIComponent(year)}&lang=${lang()}`, `visitatie-${practice}-${year}.pdf`, true);
    } catch (error) {
      say(error.message, true);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    applyLanguage();
    say(t("need_token"));
    for (const button of document.querySelectorAll("[data-lang-choice]")) {
      button.addEventListener("click", () => {
        localStorage.setItem(LANG_KEY, button.dataset.langChoice);
        applyLanguage();
        if (lastReport) render();
        else say(t("need_token"));
      });
    }
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      stored.set($("token").value);
      $("token").value = "";
      load();
    });
    $("forget-token").addEventListener("click", () => {
      stored.forget();
      lastReport = null;
      for (const id of Object.keys(charts)) {
        charts[id].destroy();
        delete charts[id];
      }
      $("charts").hidden = true;
      $("overview").hidden = true;
      $("table-section").hidden = true;
      document.body.dataset.state = "empty";
      say(t("forgotten"));
    });
    $("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    $("indicator").addEventListener("change", () => {
      if (lastReport && document.body.dataset.state === "drawn") {
        drawTrend(lastReport, lastReport.months.map(monthLabel));
        drawFunnel(lastReport);
      }
    });
    $("export").addEventListener("click", exportCsv);
    $("visitation-form").addEventListener("submit", (event) => {
      event.preventDefault();
      visitation();
    });
    if (token()) load();
  });
})();
