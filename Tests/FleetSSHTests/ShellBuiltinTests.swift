import Testing

@testable import FleetSSH

/// Which texts the persistent shell runs in itself: a whitelist that lets through nothing
/// that could start a process or change the shell.
@Suite("builtins run in the shell itself")
struct ShellBuiltinTests {
    @Test(
        "one call of true, false, :, echo, printf, test or [ with literal words and file redirections",
        arguments: [
            "true", "false", ":", "  true  \n\n", "\ntrue",
            "echo hello world", "echo -n 'a b' c'd'", "echo err >&2", "echo both 2>&1", "echo out 1>&2",
            "printf '%s\\n' 2.1.0 > /opt/app/VERSION", "printf '%s\\n' 1.1.0 >> log.txt", "printf x>f",
            "printf '%s' 'multi\nline'", "printf %s 2>/dev/null",
            "test -f /run/app/ready", "[ -d /opt/app ]", "[ -S /run/app.sock ] 2>/dev/null", "test a = b",
            ": > /tmp/empty", "echo x > /dev/null", "echo a=b x,y u@h:/p 50% +1 a]", "test -n x", "[ a != b ]",
        ])
    func accepted(text: String) {
        #expect(ShellBuiltin.runsInShell(text), "\(text)")
    }

    @Test(
        "anything else: other commands, expansions, lists, pipes, subshells, globs, fd 3, printf -v",
        arguments: [
            "", "  \n", "cd /", "exit 1", "exec true", "eval true", "builtin echo", "command echo x", "set -e", "umask 077",
            "read x", "export A=1", "A=1 true", "ls", "/bin/true", "true; cd /", "true && cd /", "true || cd /",
            "true\ncd /", "true | cat", "true &", "(true)", "{ true; }", "true # cd /\ncd /", "echo $HOME", "echo ${x:=1}",
            "echo $((x=1))", "echo $(cd /)", "echo `cd /`", "echo \"a\"", "echo a\\ b", "echo *", "echo a?", "echo [ab]",
            "echo ~", "echo {a,b}", "echo <(true)", "echo > >(cat)", "echo >&3", "echo 3>x", "echo 12>x", "echo 1>&3",
            "echo >&-",
            "echo <&0", "cat <<EOF", "echo &>x", "echo >|x", "echo 'open", "printf -v x y", "printf '-v' x y",
            "printf -- x", "[[ -f x ]]", "[x", "echo > [x", "true\u{0}", "echo ';'x; cd /",
            // Input redirections, and targets that are the shell's own descriptors or a device.
            "true < /dev/null", "echo x 0>f", "echo x > /dev/fd/3", "printf x > /dev/stdin", "echo x >> /dev/tcp/h/1",
            "echo x > ../../dev/fd/10", "echo x > a/../b", "echo > /proc/self/fd/1",
            // test's -v and -R evaluate an array subscript in the shell.
            "test -v 'a[$(touch x)]'", "[ -v 'a[x=1]' ]", "test -R x",
        ])
    func refused(text: String) {
        #expect(!ShellBuiltin.runsInShell(text), "\(text)")
    }

    @Test("what follows `builtin `: the text without the blanks around it")
    func trimmed() {
        #expect(ShellBuiltin.trimmed("\n  echo 'a  b'  \n\n") == "echo 'a  b'")
        #expect(RemoteShell.Mode(for: " test -f x\n") == .shell)
        #expect(RemoteShell.Mode.shell.announcingPid(" test -f x\n") == "builtin test -f x")
        #expect(RemoteShell.Mode(for: "test -f $x") == .body)
        // What changes how the lines after it are read: not parsed as one body.
        for text in ["shopt -s expand_aliases\nalias hi='echo hi'\nhi", "set -v\nls", "set -euv\nls", "set -o verbose; ls", "alias"] {
            #expect(RemoteShell.Mode(for: text) == .subshell, "\(text)")
        }
        #expect(RemoteShell.Mode(for: "set -eu\nls") == .body)
        #expect(RemoteShell.Mode(for: "set +e; reset") == .body)
    }
}
