//! The Grafana board and the Prometheus alert rules in `dashboards/`: the rules pass
//! `promtool check rules` and their unit tests (`promtool test rules`), the board parses and
//! its queries are valid PromQL, and every metric name the board, the rules and the rules'
//! tests use is one a running breaker exports. The names come from a real scrape, not a
//! list written here, so a renamed metric or a typo in a file fails the check. And some of
//! the board's queries, replayed by promtool over two real scrapes, give the numbers the
//! breaker's calls make (the state timeline's code for open, rejections per second, …).
//!
//! promtool is Debian's `prometheus` package: skipped where it is missing, a failure under
//! `CI=true` (tests/common/real_tool.rs).

mod common;

use serde_json::Value as Json;
use serde_norway::Value as Yaml;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn dashboards() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dashboards")
}

fn read(file: &str) -> String {
    let path = dashboards().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn board() -> Json {
    serde_json::from_str(&read("grafana.json")).expect("dashboards/grafana.json is JSON")
}

fn rules() -> Yaml {
    serde_norway::from_str(&read("alerts.yml")).expect("dashboards/alerts.yml is YAML")
}

/// Runs promtool with `args`; `None` (after the skip line) where it is not installed.
/// Panics with its output unless it succeeds.
fn promtool(args: &[&str]) -> Option<String> {
    let tool = common::real_tool::find_tool(&["promtool"], "prometheus")?;
    let out = Command::new(tool)
        .args(args)
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    Some(text)
}

/// The alerting rules of `alerts.yml`, every group's.
fn alert_rules(rules: &Yaml) -> Vec<&Yaml> {
    let groups = rules["groups"].as_sequence().expect("`groups` is a list");
    groups
        .iter()
        .flat_map(|g| g["rules"].as_sequence().expect("a group has `rules`"))
        .collect()
}

fn text<'a>(v: &'a Yaml, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no `{key}` in {v:?}"))
}

#[test]
fn alert_rules_pass_promtool_check() {
    let path = dashboards().join("alerts.yml");
    let Some(out) = promtool(&["check", "rules", path.to_str().unwrap()]) else {
        return;
    };
    // promtool counts what it read: a rule lost to bad indentation would still "succeed".
    let n = alert_rules(&rules()).len();
    assert!(out.contains(&format!("SUCCESS: {n} rules found")), "{out}");
}

#[test]
fn alert_rules_fire_on_synthetic_series() {
    // alerts_test.yml: open too long (with a half-open blip), flapping (not by hand), and a
    // rejection spike (not a quiet breaker's single rejection; at exactly one every 10 s, yes),
    // each firing when it should.
    let path = dashboards().join("alerts_test.yml");
    if let Some(out) = promtool(&["test", "rules", path.to_str().unwrap()]) {
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

#[test]
fn every_alert_has_a_wait_a_severity_and_names_its_breaker() {
    let rules = rules();
    let alerts = alert_rules(&rules);
    let names: Vec<&str> = alerts.iter().map(|r| text(r, "alert")).collect();
    assert_eq!(
        names,
        [
            "CircuitBreakerOpenTooLong",
            "CircuitBreakerFlapping",
            "CircuitBreakerRejectionSpike",
            "CircuitBreakerFleetDisconnected"
        ]
    );
    for rule in alerts {
        let name = text(rule, "alert");
        assert!(!text(rule, "for").is_empty(), "{name}: no `for`");
        assert!(
            ["critical", "warning", "info"].contains(&text(&rule["labels"], "severity")),
            "{name}: severity"
        );
        // A breaker's alert names the breaker; the fleet's link is one per fleet, named by
        // its namespace.
        let subject = if text(rule, "expr").contains("breaker_fleet_") {
            "{{ $labels.namespace }}"
        } else {
            "{{ $labels.breaker }}"
        };
        for key in ["summary", "description"] {
            assert!(
                text(&rule["annotations"], key).contains(subject),
                "{name}: the {key} does not name its subject, {subject}"
            );
        }
    }
}

/// Every panel of the board, those inside collapsed rows too.
fn panels(board: &Json) -> Vec<&Json> {
    fn walk<'a>(list: &'a Json, out: &mut Vec<&'a Json>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&board["panels"], &mut out);
    out
}

/// The query of each of the board's variables that has one (`label_values(…)`).
fn variable_queries(board: &Json) -> Vec<&str> {
    let vars = board["templating"]["list"].as_array().expect("variables");
    vars.iter()
        .filter(|v| v["type"] == "query")
        .map(|v| {
            v["query"]["query"]
                .as_str()
                .or(v["query"].as_str())
                .unwrap()
        })
        .collect()
}

#[test]
fn board_parses_and_every_panel_queries_the_chosen_breakers() {
    let board = board();
    assert!(
        board["schemaVersion"].as_u64().unwrap() >= 36,
        "schemaVersion"
    );
    let vars = board["templating"]["list"].as_array().unwrap();
    let var = |name: &str| vars.iter().find(|v| v["name"] == name);
    // A data source variable rather than a fixed uid: the board imports into any Grafana,
    // by the UI or by provisioning, and works with whichever Prometheus is picked.
    assert_eq!(
        var("datasource").expect("$datasource")["type"],
        "datasource"
    );
    let breaker = var("breaker").expect("$breaker");
    assert_eq!(breaker["multi"], true);
    assert_eq!(breaker["includeAll"], true);
    assert_eq!(
        variable_queries(&board),
        ["label_values(breaker_state, breaker)"]
    );

    let panels = panels(&board);
    assert!(panels.len() >= 8, "{} panels", panels.len());
    let mut ids = BTreeSet::new();
    for p in panels.iter().filter(|p| p["type"] != "row") {
        let title = p["title"].as_str().expect("a panel has a title");
        assert!(ids.insert(p["id"].as_u64().unwrap()), "{title}: id twice");
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for t in targets {
            let expr = t["expr"].as_str().unwrap_or_default();
            assert!(!expr.trim().is_empty(), "{title}: an empty query");
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{title}");
            assert!(
                expr.contains(r#"breaker=~"$breaker""#),
                "{title}: the query ignores the breaker variable: {expr}"
            );
        }
    }
}

/// Every PromQL expression of the board, in panel order.
fn board_exprs(board: &Json) -> Vec<&str> {
    panels(board)
        .into_iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["expr"].as_str())
        .collect()
}

#[test]
fn board_queries_are_valid_promql() {
    // Each query, its Grafana variables given values, as a recording rule: promtool parses it.
    let board = board();
    let rules: Vec<Json> = board_exprs(&board)
        .into_iter()
        .enumerate()
        .map(|(i, expr)| {
            let expr = expr
                .replace("$__rate_interval", "1m")
                .replace("$__range", "1h")
                .replace("$breaker", ".*");
            assert!(
                !expr.contains('$'),
                "a variable this test does not know: {expr}"
            );
            serde_json::json!({ "record": format!("board:query_{i}"), "expr": expr })
        })
        .collect();
    let file = serde_json::json!({ "groups": [{ "name": "board", "rules": rules }] });
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grafana_board_queries.yml");
    std::fs::write(&path, serde_norway::to_string(&file).unwrap()).unwrap();
    if let Some(out) = promtool(&["check", "rules", path.to_str().unwrap()]) {
        let n = rules.len();
        assert!(out.contains(&format!("SUCCESS: {n} rules found")), "{out}");
    }
}

/// The metric names `expr` (PromQL) selects: every identifier that is not a function, an
/// aggregation, a keyword or a label, with strings, label matchers, ranges, comments and
/// Grafana variables left out.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Words PromQL reads without a parenthesis after them (case-insensitive, as PromQL).
    // Aggregations are here because they may put `by (…)` before it: `sum by (b) (x)`.
    const KEYWORDS: [&str; 22] = [
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
        "atan2",
        "group_left",
        "group_right",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    // Words followed by a list of labels in parentheses.
    const GROUPING: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    // From an opening quote to just past its closing one.
    let skip_string = |mut i: usize| {
        let quote = chars[i];
        i += 1;
        while i < chars.len() && chars[i] != quote {
            i += if chars[i] == '\\' && quote != '`' {
                2
            } else {
                1
            };
        }
        i + 1
    };
    // From just inside an opening bracket to just past its closing one, over strings.
    let skip_to = |mut i: usize, close: char| {
        while i < chars.len() && chars[i] != close {
            i = match chars[i] {
                '"' | '\'' | '`' => skip_string(i),
                _ => i + 1,
            };
        }
        i + 1
    };
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        match c {
            '"' | '\'' | '`' => i = skip_string(start),
            '{' => i = skip_to(i, '}'),
            '[' => i = skip_to(i, ']'),
            '#' => i = skip_to(i, '\n'),
            // A Grafana variable: `${name}` or `$name`.
            '$' if chars.get(i) == Some(&'{') => i = skip_to(i, '}'),
            '$' => {
                while i < chars.len() && ident(chars[i]) {
                    i += 1;
                }
            }
            // A number or a duration: 0.99, 1e3, 5m.
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (ident(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                while i < chars.len() && ident(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let lower = word.to_ascii_lowercase();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let call = chars.get(next) == Some(&'(');
                if call && GROUPING.contains(&lower.as_str()) {
                    i = skip_to(next + 1, ')'); // the label list
                } else if !call && !KEYWORDS.contains(&lower.as_str()) {
                    names.insert(word);
                }
            }
            _ => {}
        }
    }
    names
}

#[test]
fn metric_names_are_found_in_promql_and_nothing_else() {
    let names = |expr| metric_names(expr).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"sum by (breaker) (rate(breaker_calls_totl{breaker=~"$breaker", outcome="a}b"}[$__rate_interval]))"#
        ),
        ["breaker_calls_totl"]
    );
    assert_eq!(
        names("histogram_quantile(0.99, sum without (le) (rate(a_bucket[5m] offset 1h))) > bool 1e3 and on (x) b or c unless ignoring (y) group_left (z) d"),
        ["a_bucket", "b", "c", "d"]
    );
    assert_eq!(names("count(SUM(up) BY (job) > 0) or vector(0)"), ["up"]);
    // Quotes and brackets inside strings, escaped quotes, comments, `${var}`: all skipped.
    assert_eq!(
        names("a{l=\"it's } \\\" ]\"} # not_a_metric\n+ ${x:raw} * label_replace(b, \"d\", \"$1\", \"s\", \"(.*)\")"),
        ["a", "b"]
    );
}

#[cfg(feature = "metrics")]
mod exported {
    use super::*;
    use breaker_runtime::CircuitBreaker;
    use common::prometheus::published;
    use metrics_exporter_prometheus::PrometheusHandle;
    use std::sync::Arc;

    /// A Prometheus recorder set up as the README says (buckets for the duration histogram),
    /// and a breaker `name` registered with it, recording durations.
    fn breaker_with_recorder(
        name: &str,
        threshold: u32,
    ) -> (Arc<CircuitBreaker>, PrometheusHandle) {
        let (recorder, handle) = common::prometheus::recorder();
        let breaker = metrics::with_local_recorder(&recorder, || {
            CircuitBreaker::builder(name)
                .failure_threshold(threshold)
                .build()
        });
        (breaker, handle)
    }

    /// The samples of Prometheus text: (series as written, `name{labels}`, and value).
    fn samples(text: &str) -> Vec<(&str, &str)> {
        text.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.rsplit_once(' ').expect("`series value`"))
            .collect()
    }

    fn succeed(b: &CircuitBreaker, n: usize) {
        for _ in 0..n {
            b.call_sync(|| Ok::<_, &str>(())).unwrap();
        }
    }

    fn fail(b: &CircuitBreaker, n: usize) {
        for _ in 0..n {
            b.call_sync(|| Err::<(), _>("down")).unwrap_err();
        }
    }

    fn rejected(b: &CircuitBreaker, n: usize) {
        for _ in 0..n {
            assert!(b
                .call_sync(|| Ok::<_, &str>(()))
                .unwrap_err()
                .is_circuit_open());
        }
    }

    /// The metric names of a real scrape: a breaker with durations on, after a success, a
    /// failure that opens it, and a rejection; with the `fleet` feature, a fleet's too.
    fn exported_names() -> BTreeSet<String> {
        let (breaker, handle) = breaker_with_recorder("dashboards-names", 1);
        succeed(&breaker, 1);
        fail(&breaker, 1);
        rejected(&breaker, 1);
        let names = |text: &str| -> BTreeSet<String> {
            samples(text)
                .into_iter()
                .map(|(series, _)| series.split('{').next().unwrap().to_owned())
                .collect()
        };
        let mut exported = names(&published(&handle));
        exported.extend(names(&fleet_scrape()));
        exported
    }

    /// A scrape of a fleet's own series: a fleet started (under a recorder of its own) towards
    /// a port where no Redis listens, whose link gauge exists from its start.
    #[cfg(feature = "fleet")]
    fn fleet_scrape() -> String {
        let (recorder, handle) = common::prometheus::recorder();
        let registry: &'static breaker_runtime::Registry =
            Box::leak(Box::new(breaker_runtime::Registry::new()));
        let port = common::real_tool::free_port();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The gauge is set as `start` runs, on this thread: the local recorder sees it.
        metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                breaker_runtime::fleet::Fleet::builder(format!("redis://127.0.0.1:{port}/"))
                    .namespace("dashboards")
                    .start(registry)
                    .await
                    .expect("a good URL")
                    .shutdown()
                    .await;
            })
        });
        published(&handle)
    }

    /// Without the `fleet` feature no fleet runs, and the check leaves the fleet's names out.
    #[cfg(not(feature = "fleet"))]
    fn fleet_scrape() -> String {
        String::new()
    }

    /// The first query of the board's panel titled `title`, its variables given values for
    /// a scrape every minute (Grafana's `$__rate_interval` is at least 4 scrape intervals).
    fn panel_query(board: &Json, title: &str) -> String {
        let panel = panels(board)
            .into_iter()
            .find(|p| p["title"] == title)
            .unwrap_or_else(|| panic!("no panel {title:?}"));
        panel["targets"][0]["expr"]
            .as_str()
            .unwrap()
            .replace("$__rate_interval", "4m")
            .replace("$breaker", ".*")
    }

    #[test]
    fn board_queries_read_the_crate_s_own_series() {
        // Two real scrapes, replayed by promtool as a minute of traffic repeated: between
        // them the breaker had 2 successes, 2 failures (which opened it) and 3 rejections.
        let (breaker, handle) = breaker_with_recorder("dashboards-board", 2);
        succeed(&breaker, 4);
        fail(&breaker, 1);
        succeed(&breaker, 1);
        let before = published(&handle);
        succeed(&breaker, 2);
        fail(&breaker, 2);
        rejected(&breaker, 3);
        let after = published(&handle);

        // Counters go up by the same step every minute, so a rate is that step per minute
        // whether the range includes its start (Prometheus 2) or not (3), and whatever
        // promtool extrapolates; a gauge stays where the second scrape left it.
        let gauges: BTreeSet<&str> = after
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" gauge"))
            .collect();
        let number = |v: &str| v.parse::<f64>().unwrap();
        let before: std::collections::BTreeMap<_, _> = samples(&before).into_iter().collect();
        let series: Vec<Json> = samples(&after)
            .into_iter()
            .map(|(series, value)| {
                let now = number(value);
                let values = if gauges.contains(series.split('{').next().unwrap()) {
                    format!("{now}x4")
                } else {
                    let was = before.get(series).map_or(0.0, |v| number(v));
                    format!("{was}+{}x4", now - was)
                };
                serde_json::json!({ "series": series, "values": values })
            })
            .collect();
        let board = board();
        let one = r#"{breaker="dashboards-board"}"#;
        let expect = |title: &str, labels: &str, value: f64| {
            serde_json::json!({
                "expr": panel_query(&board, title),
                "eval_time": "4m",
                "exp_samples": [{ "labels": labels, "value": value }],
            })
        };
        let file = serde_json::json!({
            "rule_files": [],
            "evaluation_interval": "1m",
            "tests": [{
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    expect("State", one, 5.0), // open
                    expect("Breakers not closed", "{}", 1.0),
                    expect("Calls per second", "{}", (2.0 + 2.0) / 60.0),
                    expect("Rejections per second", one, 3.0 / 60.0),
                    expect("Failure ratio", one, 2.0 / (2.0 + 2.0)),
                ],
            }],
        });
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grafana_board_test.yml");
        std::fs::write(&path, serde_norway::to_string(&file).unwrap()).unwrap();
        if let Some(out) = promtool(&["test", "rules", path.to_str().unwrap()]) {
            assert!(out.contains("SUCCESS"), "{out}");
        }
    }

    /// Every PromQL expression of the rules, and the series their unit tests feed them.
    fn rule_exprs(rules: &Yaml, tests: &Yaml) -> Vec<String> {
        let exprs = alert_rules(rules).into_iter().map(|r| text(r, "expr"));
        let series = tests["tests"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|t| t["input_series"].as_sequence().unwrap())
            .map(|s| text(s, "series"));
        exprs.chain(series).map(str::to_owned).collect()
    }

    #[test]
    fn every_metric_name_in_the_board_and_rules_is_one_the_crate_exports() {
        let exported = exported_names();
        // The scrape itself, before it judges anything: the histogram is rendered with
        // buckets (without them the exporter renders a summary, and the board's p99 is empty).
        for name in ["breaker_state", "breaker_call_duration_seconds_bucket"] {
            assert!(exported.contains(name), "{name} not in {exported:?}");
        }

        let board = board();
        let tests = serde_norway::from_str(&read("alerts_test.yml")).unwrap();
        let mut used: Vec<(String, String)> = Vec::new(); // (where, name)
        let mut note = |place: &str, expr: &str| {
            for name in metric_names(expr) {
                used.push((place.to_owned(), name));
            }
        };
        for expr in board_exprs(&board) {
            note("grafana.json", expr);
        }
        for query in variable_queries(&board) {
            // `label_values(metric, label)`: the metric is its first argument.
            let args = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .unwrap_or_else(|| panic!("a variable query this test does not know: {query}"));
            note("grafana.json variable", args.rsplit_once(',').unwrap().0);
        }
        for expr in rule_exprs(&rules(), &tests) {
            note("alerts.yml / alerts_test.yml", &expr);
        }

        // Checked with the `fleet` feature on, as CI runs (`--all-features`).
        #[cfg(not(feature = "fleet"))]
        used.retain(|(_, name)| !name.starts_with("breaker_fleet_"));
        let unknown: Vec<_> = used
            .iter()
            .filter(|(_, name)| !exported.contains(name))
            .collect();
        assert!(
            unknown.is_empty(),
            "names the crate does not export: {unknown:?}\nexported: {exported:?}"
        );
        // Each file was read: the board, its variable, the rules and their tests all name
        // metrics (a parse that found nothing would pass the check above).
        for place in [
            "grafana.json",
            "grafana.json variable",
            "alerts.yml / alerts_test.yml",
        ] {
            assert!(used.iter().any(|(p, _)| p == place), "no metric in {place}");
        }
        let used: BTreeSet<&str> = used.iter().map(|(_, n)| n.as_str()).collect();
        assert!(used.len() >= 6, "{used:?}");
    }
}
