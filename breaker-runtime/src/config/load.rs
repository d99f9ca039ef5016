//! Loading settings from TOML and `BREAKER_<NAME>_<KEY>` variables into a [`Registry`].

use super::unmatched::{self, Loaded};
use super::{env, file};
use crate::error::ConfigError;
use crate::registry::{registry, Registry};
use crate::settings::Layers;
use std::path::Path;

/// Loads a TOML document into the global [`registry()`](crate::registry()), replacing the
/// settings of any earlier file or string (variables read by [`load_env`] stay).
///
/// ```toml
/// [default]                     # every breaker, under the code's own settings
/// reset_timeout = "10s"
///
/// [breakers."quotes"]           # one breaker, over the code's settings
/// failure_threshold = 3
/// backoff = { kind = "exponential", multiplier = 2.0, max = "5m", jitter = 0.1 }
///
/// [breakers."quotes-eu"]
/// base = "quotes"               # everything `quotes` sets, then these
/// window = "60s"
/// failure_rate = 0.5
/// ```
///
/// Keys are the attribute's argument names with the same values: whole numbers, rates,
/// duration strings (`"250ms"`, `"30s"`, `"1m30s"`), `window` as a call count or a
/// duration, `backoff` as `"fixed"`, `"linear(step = 10s, max = 2m)"`,
/// `"exponential(multiplier = 2, max = 5m)"` or a table with `kind` and those parameters.
/// `failure_if`, `ignore_if`, `fallback`, `name` and `crate` are code-only.
///
/// Registered breakers (made by the attribute or [`Registry::get_or_create`]) are
/// reconfigured in place and keep their state and counts; settings for breakers that do not
/// exist yet apply when they are created. Breakers built with
/// [`CircuitBreaker::builder`](crate::CircuitBreaker::builder) live outside the registry and
/// are not touched. On any error, no breaker and no setting changes; a breaker the loaded
/// settings do not fit keeps its code's settings (logged) without failing the load. See [`load_str_into`]
/// for the rules.
///
/// ```
/// use breaker_runtime::{config, registry, BreakerConfig, State};
///
/// let breaker = registry().get_or_create("docs-load-str", BreakerConfig::default());
/// config::load_str(r#"
///     [breakers."docs-load-str"]
///     failure_threshold = 1
/// "#)?;
/// let _ = breaker.call_sync(|| Err::<(), _>("down"));
/// assert_eq!(breaker.state(), State::Open);
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
pub fn load_str(toml: &str) -> Result<(), ConfigError> {
    load_str_into(registry(), toml)
}

/// Reads a config file and loads it like [`load_str`] into the global registry. The
/// extension (in any case) says the format: `.toml`, or `.yaml` / `.yml` with the `yaml`
/// feature, which has the same tables, keys, values and errors. Any other extension is a
/// [`ConfigError::Parse`] that says which are read.
///
/// ```
/// use breaker_runtime::{config, ConfigError};
///
/// let path = std::env::temp_dir().join("docs-load-file.toml");
/// std::fs::write(&path, "[default]\nreset_timeout = \"10s\"\n").unwrap();
/// config::load_file(&path)?;
///
/// let missing = config::load_file("/no/such/breakers.toml").unwrap_err();
/// assert!(matches!(missing, ConfigError::Io { .. }));
/// # Ok::<(), ConfigError>(())
/// ```
pub fn load_file(path: impl AsRef<Path>) -> Result<(), ConfigError> {
    load_file_into(registry(), path)
}

/// Reads the `BREAKER_<NAME>_<KEY>` environment variables into the global registry,
/// replacing those read before. See [`load_vars_into`] for the rules.
///
/// ```
/// use breaker_runtime::{config, registry, BreakerConfig, State};
///
/// std::env::set_var("BREAKER_DOCS_LOAD_ENV_FAILURE_THRESHOLD", "1");
/// config::load_env()?;
/// // Created after the variables were read: they apply all the same.
/// let breaker = registry().get_or_create("docs-load-env", BreakerConfig::default());
/// let _ = breaker.call_sync(|| Err::<(), _>("down"));
/// assert_eq!(breaker.state(), State::Open);
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
pub fn load_env() -> Result<(), ConfigError> {
    load_env_into(registry())
}

/// [`load_str`] into a registry of your own.
///
/// A document has a `[default]` table and `[breakers."name"]` tables, nothing else. A
/// breaker's table may say `base = "other"` to start from `[breakers."other"]` (which may
/// itself have a `base`); a `base` naming no table, or a chain that comes back to where it
/// started, is an error.
///
/// Precedence, low to high: built-in defaults, `[default]`, `BREAKER_DEFAULT_<KEY>`, the
/// code's settings (the attribute's arguments, or the config given to
/// [`Registry::get_or_create`]), the breaker's table (with its bases), then
/// `BREAKER_<NAME>_<KEY>`.
///
/// Every value is checked on its own; a bad one fails the load, changing nothing, with an
/// error that names the breaker, the key and the value. Then every breaker is checked with
/// its new settings as a whole, by the rule [`Registry::get_or_create`] follows for a
/// breaker created later: one whose settings do not fit together logs the error and runs
/// with its code's settings alone, and the others are reconfigured; the load succeeds.
///
/// ```
/// use breaker_runtime::{config, BreakerConfig, ConfigError, Registry};
///
/// let registry = Registry::new();
/// let err = config::load_str_into(&registry, r#"
///     [breakers."quotes"]
///     timeout = "5s"
/// "#).unwrap_err();
/// assert!(matches!(err, ConfigError::UnknownKey { .. }));
/// assert_eq!(
///     err.to_string(),
///     "breaker `quotes`: unknown key `timeout`; did you mean `call_timeout`?"
/// );
///
/// let err = config::load_str_into(&registry, r#"
///     [breakers."quotes"]
///     failure_rate = 1.5
/// "#).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "breaker `quotes`: `failure_rate` = 1.5 is invalid: must be a fraction in (0, 1]; 1.5 is above 1"
/// );
/// ```
pub fn load_str_into(registry: &Registry, toml: &str) -> Result<(), ConfigError> {
    load_document(registry, toml, "<string>")
}

/// [`load_file`] into a registry of your own. An unreadable file is [`ConfigError::Io`];
/// syntax errors name the path and the line.
///
/// A YAML file (feature `yaml`) is read into the values a TOML file is, so it goes through
/// the same rules:
///
/// ```
/// # #[cfg(feature = "yaml")] {
/// use breaker_runtime::{config, Registry};
///
/// let path = std::env::temp_dir().join("docs-load-file-into.yaml");
/// std::fs::write(&path, "breakers:\n  quotes:\n    failure_rate: 1.5\n").unwrap();
/// let err = config::load_file_into(&Registry::new(), &path).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "breaker `quotes`: `failure_rate` = 1.5 is invalid: must be a fraction in (0, 1]; 1.5 is above 1"
/// );
/// # }
/// ```
///
/// ```
/// use breaker_runtime::{config, ConfigError, Registry};
///
/// let path = std::env::temp_dir().join("docs-load-file-into.toml");
/// std::fs::write(&path, "[default]\nfailure_threshold = \n").unwrap();
/// let err = config::load_file_into(&Registry::new(), &path).unwrap_err();
/// assert!(matches!(err, ConfigError::Parse { .. }));
/// assert!(err.to_string().contains("line 2"), "{err}");
/// ```
pub fn load_file_into(registry: &Registry, path: impl AsRef<Path>) -> Result<(), ConfigError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let parse = format(path).map_err(|message| ConfigError::Parse {
        source_name: shown.clone(),
        message,
    })?;
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    load_layers(registry, parse(&text, &shown)?)
}

/// Reads a document into its layers.
type Parser = fn(&str, &str) -> Result<file::FileLayers, ConfigError>;

/// The reader of a file, by its extension (in any case); or why there is none. Checked before
/// the file is read, so a mistaken path fails the same way whether or not the file exists.
fn format(path: &Path) -> Result<Parser, String> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("toml") => Ok(file::parse),
        #[cfg(feature = "yaml")]
        Some("yaml" | "yml") => Ok(super::yaml::parse),
        #[cfg(not(feature = "yaml"))]
        Some(e @ ("yaml" | "yml")) => Err(format!(
            "`.{e}` files are read with the `yaml` feature of breaker-runtime, which is off"
        )),
        other => Err(format!(
            "{}: config files are `.toml`, or `.yaml` / `.yml` with the `yaml` feature",
            other.map_or_else(
                || "no extension".to_owned(),
                |e| format!("unknown extension `.{e}`")
            )
        )),
    }
}

fn load_document(registry: &Registry, text: &str, source_name: &str) -> Result<(), ConfigError> {
    load_layers(registry, file::parse(text, source_name)?)
}

fn load_layers(registry: &Registry, file: file::FileLayers) -> Result<(), ConfigError> {
    registry.update_layers(|current, _| {
        Ok(Layers {
            default: file.default,
            tables: file.tables,
            bases: file.bases,
            env_default: current.env_default.clone(),
            env: current.env.clone(),
        })
    })?;
    unmatched::warn(registry, Loaded::Tables);
    Ok(())
}

/// [`load_env`] into a registry of your own.
///
/// ```
/// use breaker_runtime::{config, Registry};
///
/// std::env::set_var("BREAKER_DOCS_ENV_INTO_RESET_TIMEOUT", "10s");
/// config::load_env_into(&Registry::new())?;
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
pub fn load_env_into(registry: &Registry) -> Result<(), ConfigError> {
    let mut vars = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else {
            let lossy = name.to_string_lossy();
            if lossy.starts_with(env::PREFIX) {
                return Err(ConfigError::Parse {
                    source_name: lossy.into_owned(),
                    message: "the variable's name is not valid UTF-8".to_owned(),
                });
            }
            continue;
        };
        if !name.starts_with(env::PREFIX) {
            continue;
        }
        let Some(value) = value.to_str() else {
            return Err(ConfigError::Parse {
                source_name: name.to_owned(),
                message: "the value is not valid UTF-8".to_owned(),
            });
        };
        vars.push((name.to_owned(), value.to_owned()));
    }
    load_vars_into(registry, vars)
}

/// Reads `BREAKER_<NAME>_<KEY>` settings from `vars` (name, value pairs; others are
/// ignored), replacing those read before: what [`load_env_into`] does with the process's
/// environment, for variables from elsewhere (a `.env` file, a test).
///
/// `<NAME>` is the breaker's name upper-cased, every run of characters other than ASCII
/// letters and digits written as one `_`, none at either end (`quotes-api` is `QUOTES_API`,
/// `app::Repo::get` is `APP_REPO_GET`). `<KEY>` is a setting's name upper-cased
/// (`FAILURE_THRESHOLD`); the variable is split at the key that ends it, so names may
/// contain `_`. Since the spelling loses case and punctuation, breakers whose names spell
/// the same (`quotes-api`, `quotes__api`) share the variables. `BREAKER_DEFAULT_<KEY>` applies to every
/// breaker, over the file's `[default]` and under the code's settings (so a breaker named
/// `default` cannot be set by variables of its own).
///
/// Values are written as in a file, without the quotes: `3`, `0.5`, `10s`, `window` as
/// `100` or `60s`, `backoff` as `fixed`, `linear(step=10s,max=2m)` or
/// `exponential(multiplier=2,max=5m,jitter=0.1)`. A `BREAKER_` variable that ends in no
/// known key is an error (reported for the breaker it names, with the key it was probably
/// meant to be). Variables apply to breakers registered later too.
///
/// ```
/// use breaker_runtime::{config, BreakerConfig, ConfigError, Registry, State};
///
/// let registry = Registry::new();
/// let quotes = registry.get_or_create("quotes-api", BreakerConfig::default());
/// config::load_vars_into(&registry, [("BREAKER_QUOTES_API_FAILURE_THRESHOLD", "1")])?;
/// let _ = quotes.call_sync(|| Err::<(), _>("down"));
/// assert_eq!(quotes.state(), State::Open);
///
/// let err = config::load_vars_into(&registry, [("BREAKER_QUOTES_API_TIMEOUT", "5s")]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "breaker `quotes-api`: unknown key `timeout`; did you mean `call_timeout`?"
/// );
/// # Ok::<(), ConfigError>(())
/// ```
pub fn load_vars_into<K, V>(
    registry: &Registry,
    vars: impl IntoIterator<Item = (K, V)>,
) -> Result<(), ConfigError>
where
    K: Into<String>,
    V: Into<String>,
{
    let vars: Vec<(String, String)> = vars
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    registry.update_layers(|current, names| {
        let mut known: Vec<&str> = names.to_vec();
        known.extend(current.tables.keys().map(String::as_str));
        let env = env::parse(vars, &known)?;
        Ok(Layers {
            default: current.default.clone(),
            tables: current.tables.clone(),
            bases: current.bases.clone(),
            env_default: env.default,
            env: env.by_name,
        })
    })?;
    unmatched::warn(registry, Loaded::Variables);
    Ok(())
}
