//! The EAL command line: the configuration's arguments, the caller's extras, and an
//! lcore list built from the worker cores when neither names one.

/// Why the EAL arguments could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EalArgsError {
    /// A worker core the machine does not have.
    #[error("workers.cores[{index}]: core {core} does not exist")]
    NoSuchCore {
        /// Position in `workers.cores`.
        index: usize,
        /// The core.
        core: u32,
    },
    /// Every online core is a worker: none is left for the main (control) lcore.
    #[error("workers.cores: every core is a worker; leave one for the main (control) lcore")]
    NoCoreForMain,
}

/// Whether `args` already choose the lcores (`-l`, `-c`, `--lcores`, glued or not).
pub fn names_lcores(args: &[String]) -> bool {
    args.iter().any(|a| {
        a == "-l"
            || a == "-c"
            || a == "--lcores"
            || a.starts_with("--lcores=")
            || (a.starts_with("-l") && !a.starts_with("--"))
            || (a.starts_with("-c") && !a.starts_with("--"))
    })
}

/// Whether `args` set a log level.
fn names_log_level(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--log-level" || a.starts_with("--log-level="))
}

/// The EAL arguments for a run: `config` then `extra`; when neither names lcores,
/// `-l MAIN,WORKERS... --main-lcore MAIN` with MAIN the lowest online core that is not
/// a worker; worker cores are then checked against `online`.
pub fn build(
    config: &[String],
    extra: &[String],
    workers: &[u32],
    online: &[u32],
) -> Result<Vec<String>, EalArgsError> {
    let mut args: Vec<String> = config.iter().chain(extra).cloned().collect();
    if !names_lcores(&args) {
        // Here lcore ids are CPU numbers; with an explicit --lcores map they need not be,
        // and the engine checks them against the EAL instead.
        for (index, &core) in workers.iter().enumerate() {
            if !online.contains(&core) {
                return Err(EalArgsError::NoSuchCore { index, core });
            }
        }
        let main = online
            .iter()
            .copied()
            .find(|c| !workers.contains(c))
            .ok_or(EalArgsError::NoCoreForMain)?;
        let list: Vec<String> = std::iter::once(main)
            .chain(workers.iter().copied())
            .map(|c| c.to_string())
            .collect();
        args.extend([
            "-l".to_owned(),
            list.join(","),
            "--main-lcore".to_owned(),
            main.to_string(),
        ]);
    }
    if !names_log_level(&args) {
        // DPDK's informational start-up chatter would bury our one-line errors.
        args.push("--log-level=notice".to_owned());
    }
    Ok(args)
}

/// Parse a Linux CPU list (`0-3,6,8-9`), as in `/sys/devices/system/cpu/online`.
pub fn parse_cpu_list(text: &str) -> Vec<u32> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                    cpus.extend(a..=b);
                }
            }
            None => cpus.extend(part.trim().parse::<u32>().ok()),
        }
    }
    cpus
}

/// The CPUs online on this machine (falls back to `0..available_parallelism`).
pub fn online_cpus() -> Vec<u32> {
    match std::fs::read_to_string("/sys/devices/system/cpu/online") {
        Ok(text) if !parse_cpu_list(&text).is_empty() => parse_cpu_list(&text),
        _ => {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..u32::try_from(n).unwrap_or(1)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn an_lcore_list_is_built_with_a_main_core_apart_from_the_workers() {
        let args = build(
            &s(&["--no-huge"]),
            &s(&["--file-prefix", "t"]),
            &[1],
            &[0, 1],
        )
        .ok();
        assert_eq!(
            args,
            Some(s(&[
                "--no-huge",
                "--file-prefix",
                "t",
                "-l",
                "0,1",
                "--main-lcore",
                "0",
                "--log-level=notice"
            ]))
        );
        let args = build(&[], &[], &[0], &[0, 1]).ok();
        assert_eq!(
            args,
            Some(s(&["-l", "1,0", "--main-lcore", "1", "--log-level=notice"]))
        );
    }

    #[test]
    fn a_given_lcore_option_or_log_level_is_respected() {
        for given in [
            &["-l", "0-1"][..],
            &["-l0-1"],
            &["--lcores=0@0,1@1"],
            &["-c", "3"],
        ] {
            let args = build(&s(given), &s(&["--log-level", "debug"]), &[1], &[0, 1]).ok();
            let mut expected = s(given);
            expected.extend(s(&["--log-level", "debug"]));
            assert_eq!(args, Some(expected));
        }
        assert!(!names_lcores(&s(&["--log-level=debug", "--no-huge"])));
        // An lcore map may name lcores beyond the CPUs; the EAL judges those.
        assert!(build(&s(&["--lcores=0@0,1@1,2@1"]), &[], &[1, 2], &[0, 1]).is_ok());
    }

    #[test]
    fn missing_cores_and_a_machine_without_a_spare_core_are_refused() {
        let e = build(&[], &[], &[1, 7], &[0, 1]).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("workers.cores[1]: core 7 does not exist")
        );
        assert_eq!(
            build(&[], &[], &[0, 1], &[0, 1]).err(),
            Some(EalArgsError::NoCoreForMain)
        );
    }

    #[test]
    fn cpu_lists_parse_ranges_and_singles() {
        assert_eq!(parse_cpu_list("0-3,6,8-9\n"), vec![0, 1, 2, 3, 6, 8, 9]);
        assert_eq!(parse_cpu_list("0\n"), vec![0]);
        assert!(parse_cpu_list("").is_empty());
    }
}
