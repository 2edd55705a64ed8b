// Flow's build tools on a demo host: `bundle` and `yarn` that do nothing but log what they
// were asked, with the version of the checkout they ran in (the current folder), to
// `$FLEET_HOST_ROOT/log/flow.log`. `bin/flowctl` (committed in the fake Flow repository)
// runs `bundle exec flowctl`.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The version of the checkout the tool runs in: the current folder, which must hold `marker` (a real
/// bundler without a Gemfile fails too: a step that forgot its `chdir` fails here).
func checkoutVersion(holding marker: String, orFail message: String, code: Int32) -> String {
    guard let cwd = getcwd(nil, 0) else { fail("getcwd: \(String(cString: strerror(errno)))") }
    let dir = String(cString: cwd)
    free(cwd)
    guard exists("\(dir)/\(marker)") else { fail(message, code: code) }
    return installedVersion(dir)
}

func flowLogPath() -> String { "\(hostRoot())/log/flow.log" }

/// Logs `action VERSION` for a finished action; `fail` logs it with ` failed`.
func done(_ action: String, _ version: String) -> Never {
    appendLine(flowLogPath(), "\(action) \(version)")
    exit(0)
}

func bundle(_ args: [String]) -> Never {
    let version = checkoutVersion(holding: "Gemfile", orFail: "Could not locate Gemfile or .bundle/ directory", code: 10)
    switch args {
    case ["install"]:
        done("bundle install", version)
    case ["exec", "rails", "db:migrate"]:
        lineIfFailing = (flowLogPath(), "db:migrate \(version)")
        if let why = control("fail-migrate", appliesAt: version) {
            fail("rails aborted!\nActiveRecord::StatementInvalid: migration failed on purpose (\(why))")
        }
        done("db:migrate", version)
    case ["exec", "rails", "assets:precompile"]:
        done("assets:precompile", version)
    case ["exec", "flowctl", "cache", "clear"]:
        done("cache clear", version)
    default:
        fail(
            "fake bundle: expected install, exec rails db:migrate, exec rails assets:precompile or exec flowctl cache clear; got \(args.joined(separator: " "))",
            code: 2)
    }
}

func yarn(_ args: [String]) -> Never {
    let version = checkoutVersion(holding: "package.json", orFail: "error Couldn't find a package.json file in the current folder", code: 1)
    switch args {
    case ["install"], ["install", "--frozen-lockfile"]:
        done("yarn install", version)
    default:
        fail("fake yarn: expected install [--frozen-lockfile]; got \(args.joined(separator: " "))", code: 2)
    }
}
