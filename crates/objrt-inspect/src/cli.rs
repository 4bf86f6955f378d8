//! The command line: parsing the arguments into a [`Command`] and running
//! it. A command returns the text for stdout (the SVG commands write their
//! file and say so); every failure is an [`InspectError`] for stderr.

use std::path::{Path, PathBuf};

use crate::arenas_svg::render_arenas_svg;
use crate::diff::render_diff;
use crate::error::InspectError;
use crate::graph_svg::{DEFAULT_DEPTH, neighbourhood, render_graph_svg};
use crate::labels::{format_id, parse_id};
use crate::path::render_path;
use crate::retainers::{DEFAULT_TOP, render_retainers};
use crate::snapshot::Snapshot;
use crate::types::render_types;

/// What `--help` prints.
pub const USAGE: &str = "\
objrt-inspect: read objrt heap snapshots (docs/heap-snapshot.md)

usage:
  objrt-inspect types SNAPSHOT                          objects and bytes by type
  objrt-inspect retainers SNAPSHOT [--top N]            largest retained sizes (default 20)
  objrt-inspect path SNAPSHOT ID                        shortest path from a root to ID
  objrt-inspect diff OLD NEW                            changes by type between two snapshots
  objrt-inspect graph SNAPSHOT ID [--depth D] -o OUT.svg  the graph around ID (default depth 2)
  objrt-inspect arenas SNAPSHOT -o OUT.svg              arenas and pools by occupancy

IDs are written 0x7f... (hexadecimal) or in decimal, as in the snapshot.
";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `--help`: print [`USAGE`].
    Help,
    /// `types SNAPSHOT`.
    Types {
        /// The snapshot file.
        snapshot: PathBuf,
    },
    /// `retainers SNAPSHOT [--top N]`.
    Retainers {
        /// The snapshot file.
        snapshot: PathBuf,
        /// How many to list.
        top: usize,
    },
    /// `path SNAPSHOT ID`.
    Path {
        /// The snapshot file.
        snapshot: PathBuf,
        /// The object's id.
        id: u64,
    },
    /// `diff OLD NEW`.
    Diff {
        /// The earlier snapshot.
        old: PathBuf,
        /// The later snapshot.
        new: PathBuf,
    },
    /// `graph SNAPSHOT ID [--depth D] -o OUT`.
    Graph {
        /// The snapshot file.
        snapshot: PathBuf,
        /// The object in the middle.
        id: u64,
        /// How far to walk each way.
        depth: usize,
        /// Where to write the SVG.
        output: PathBuf,
    },
    /// `arenas SNAPSHOT -o OUT`.
    Arenas {
        /// The snapshot file.
        snapshot: PathBuf,
        /// Where to write the SVG.
        output: PathBuf,
    },
}

/// The arguments after the command's name, split into positionals and the
/// options this tool knows.
#[derive(Default)]
struct Arguments {
    positionals: Vec<String>,
    top: Option<usize>,
    depth: Option<usize>,
    output: Option<PathBuf>,
}

/// Parses the arguments (without the program name).
pub fn parse_command(args: &[String]) -> Result<Command, InspectError> {
    let Some((name, rest)) = args.split_first() else {
        return Err(usage_error("no command given"));
    };
    if matches!(name.as_str(), "-h" | "--help" | "help") {
        return Ok(Command::Help);
    }
    let arguments = split_arguments(rest)?;
    let allowed: &[&str] = match name.as_str() {
        "retainers" => &["--top"],
        "graph" => &["--depth", "-o"],
        "arenas" => &["-o"],
        "types" | "path" | "diff" => &[],
        other => return Err(usage_error(&format!("unknown command {other:?}"))),
    };
    for (option, given) in [
        ("--top", arguments.top.is_some()),
        ("--depth", arguments.depth.is_some()),
        ("-o", arguments.output.is_some()),
    ] {
        if given && !allowed.contains(&option) {
            return Err(usage_error(&format!("{name} takes no {option} option")));
        }
    }
    let positionals = &arguments.positionals;
    let expect = |count: usize, shape: &str| {
        if positionals.len() == count {
            Ok(())
        } else {
            Err(usage_error(&format!("usage: objrt-inspect {name} {shape}")))
        }
    };
    let output = || {
        arguments
            .output
            .clone()
            .ok_or_else(|| usage_error(&format!("{name} needs -o OUT.svg")))
    };
    Ok(match name.as_str() {
        "types" => {
            expect(1, "SNAPSHOT")?;
            Command::Types {
                snapshot: positionals[0].clone().into(),
            }
        }
        "retainers" => {
            expect(1, "SNAPSHOT [--top N]")?;
            Command::Retainers {
                snapshot: positionals[0].clone().into(),
                top: arguments.top.unwrap_or(DEFAULT_TOP),
            }
        }
        "path" => {
            expect(2, "SNAPSHOT ID")?;
            Command::Path {
                snapshot: positionals[0].clone().into(),
                id: parse_id_argument(&positionals[1])?,
            }
        }
        "diff" => {
            expect(2, "OLD NEW")?;
            Command::Diff {
                old: positionals[0].clone().into(),
                new: positionals[1].clone().into(),
            }
        }
        "graph" => {
            expect(2, "SNAPSHOT ID [--depth D] -o OUT.svg")?;
            Command::Graph {
                snapshot: positionals[0].clone().into(),
                id: parse_id_argument(&positionals[1])?,
                depth: arguments.depth.unwrap_or(DEFAULT_DEPTH),
                output: output()?,
            }
        }
        _ => {
            expect(1, "SNAPSHOT -o OUT.svg")?;
            Command::Arenas {
                snapshot: positionals[0].clone().into(),
                output: output()?,
            }
        }
    })
}

/// Runs a command; returns what it prints on stdout.
pub fn run_command(command: &Command) -> Result<String, InspectError> {
    match command {
        Command::Help => Ok(USAGE.to_owned()),
        Command::Types { snapshot } => Ok(render_types(&Snapshot::read(snapshot)?)),
        Command::Retainers { snapshot, top } => {
            Ok(render_retainers(&Snapshot::read(snapshot)?, *top))
        }
        Command::Path { snapshot: path, id } => {
            let snapshot = Snapshot::read(path)?;
            Ok(render_path(&snapshot, find_object(&snapshot, path, *id)?))
        }
        Command::Diff { old, new } => Ok(render_diff(&Snapshot::read(old)?, &Snapshot::read(new)?)),
        Command::Graph {
            snapshot: path,
            id,
            depth,
            output,
        } => {
            let snapshot = Snapshot::read(path)?;
            let center = find_object(&snapshot, path, *id)?;
            let layers = neighbourhood(&snapshot, center, *depth);
            write_file(
                output,
                &render_graph_svg(&snapshot, center, &layers, *depth),
            )?;
            let shown: usize = layers.iter().map(|layer| layer.objects.len()).sum();
            Ok(format!(
                "wrote {} ({shown} objects around {})\n",
                output.display(),
                format_id(*id)
            ))
        }
        Command::Arenas { snapshot, output } => {
            let snapshot = Snapshot::read(snapshot)?;
            write_file(output, &render_arenas_svg(&snapshot))?;
            Ok(format!(
                "wrote {} ({} arenas)\n",
                output.display(),
                snapshot.arenas.len()
            ))
        }
    }
}

fn split_arguments(args: &[String]) -> Result<Arguments, InspectError> {
    let mut arguments = Arguments::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (option, inline_value) = match arg.split_once('=') {
            Some((option, value)) if option.starts_with("--") => (option, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline_value
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| usage_error(&format!("{option} needs a value")))
        };
        match option {
            "--top" => arguments.top = Some(parse_count(option, &value()?)?),
            "--depth" => arguments.depth = Some(parse_count(option, &value()?)?),
            "-o" | "--output" => arguments.output = Some(value()?.into()),
            _ if option.starts_with('-') && option.len() > 1 => {
                return Err(usage_error(&format!("unknown option {option}")));
            }
            _ => arguments.positionals.push(arg.clone()),
        }
    }
    Ok(arguments)
}

fn parse_count(option: &str, text: &str) -> Result<usize, InspectError> {
    text.parse()
        .map_err(|_| usage_error(&format!("{option} takes a number, not {text:?}")))
}

fn parse_id_argument(text: &str) -> Result<u64, InspectError> {
    parse_id(text).ok_or_else(|| {
        usage_error(&format!(
            "{text:?} is not an object id (0x7f... or a decimal number)"
        ))
    })
}

fn find_object(snapshot: &Snapshot, path: &Path, id: u64) -> Result<usize, InspectError> {
    snapshot
        .index_of(id)
        .ok_or_else(|| InspectError::UnknownId {
            path: path.to_owned(),
            id,
        })
}

fn write_file(path: &Path, contents: &str) -> Result<(), InspectError> {
    std::fs::write(path, contents).map_err(|source| InspectError::Io {
        path: path.to_owned(),
        source,
    })
}

fn usage_error(message: &str) -> InspectError {
    InspectError::Usage(message.to_owned())
}
