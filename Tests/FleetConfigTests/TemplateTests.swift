import FleetCore
import Testing

@Suite("templates: insertion, quoting, secrets")
struct TemplateTests {
    static let scope = TemplateScope(
        vars: [
            "install_dir": .string("/opt/mattermost"),
            "spaced": .string("/srv/my app"),
            "evil": .string("1.0; rm -rf /"),
            "quote": .string("it's"),
            "port": .int(8065),
            "on": .bool(true),
            "empty": .string(""),
            "none": .null,
            "backup_dir": .string("{{ spaced }}/backups"),
            "url": .string("http://127.0.0.1:{{ port }}/ping"),
            "db_password": .secret(Secret("p@ss word")),
            "dsn": .string("postgres://mm:{{ db_password }}@db/mm"),
            "list": .list([.string("a")]),
            "map": .map(["a": .int(1)]),
            "loop_a": .string("{{ loop_b }}"),
            "loop_b": .string("x{{ loop_a }}"),
            "broken": .string("{{ qqq_missing }}"),
            "literal": .unsafe("{{ port }} stays"),
        ], facts: ["host": "web1", "from": "5.0.0", "to": "5.1.0"])

    @Test(
        "in a command, each insertion is one shell word",
        arguments: [
            ("cp {{ install_dir }}/config.json /tmp", "cp /opt/mattermost/config.json /tmp"),
            // a value with a space stays one argument.
            ("ls {{ spaced }}", "ls '/srv/my app'"),
            // a version string with shell syntax stays one argument, never a second command.
            ("echo {{ evil }}", "echo '1.0; rm -rf /'"),
            ("echo {{ quote }}", #"echo 'it'\''s'"#),
            // | raw inserts as written: the author's choice.
            ("{{ evil | raw }}", "1.0; rm -rf /"),
            ("echo {{evil|raw}}", "echo 1.0; rm -rf /"),
            ("curl :{{ port }}", "curl :8065"),
            // an !unsafe value is never templated, as in Ansible.
            ("echo {{ literal }}", "echo '{{ port }} stays'"),
            ("flag={{ on }}", "flag=True"),
            ("x={{ empty }}", "x=''"),
            ("x={{ none }}", "x=''"),
            // a variable holding a template is rendered as text first, then quoted once, whole.
            ("tar -C {{ backup_dir }}", "tar -C '/srv/my app/backups'"),
            ("curl {{ url }}", "curl http://127.0.0.1:8065/ping"),
            ("upgrade {{ host }} {{ from }} {{ to }}", "upgrade web1 5.0.0 5.1.0"),
            // a literal insertion: the way to write braces.
            ("awk '{{ '{{' }} print }}'", "awk '{{ print }}'"),
            ("no insertions at all", "no insertions at all"),
        ])
    func shell(template: String, expected: String) throws {
        #expect(try Self.scope.render(Template(parsing: template), as: .shell).text == expected)
    }

    @Test("as text (paths, URLs, variable values) nothing is quoted")
    func text() throws {
        #expect(try Self.scope.render(Template(parsing: "{{ spaced }}/x-{{ to }}.tar.gz"), as: .text).text == "/srv/my app/x-5.1.0.tar.gz")
    }

    @Test(
        "secrets: the script has the value, the display never does",
        arguments: [
            ("PGPASSWORD={{ db_password }} pg_dump", "PGPASSWORD='p@ss word' pg_dump", "PGPASSWORD=[REDACTED] pg_dump"),
            ("psql {{ dsn }}", "psql 'postgres://mm:p@ss word@db/mm'", "psql 'postgres://mm:[REDACTED]@db/mm'"),
            ("{{ db_password | raw }}", "p@ss word", "[REDACTED]"),
        ])
    func secrets(template: String, script: String, display: String) throws {
        let r = try Self.scope.render(Template(parsing: template), as: .shell)
        #expect(r.text == script)
        #expect(r.display == display)
        #expect(!r.display.contains("p@ss"))
        #expect(r.command().display == display)
    }

    @Test("a secret prints as [REDACTED] however it is printed")
    func secretPrints() {
        let s = Secret("hunter2")
        #expect("\(s)" == "[REDACTED]")
        #expect(String(reflecting: s) == "[REDACTED]")
        #expect("\(VarValue.secret(s))".contains("hunter2") == false)
    }

    @Test(
        "syntax errors",
        arguments: [
            ("echo {{ name", #"unclosed "{{" (expected "}}" after it)"#),
            ("echo {{ }}", #"empty "{{ }}" (expected a variable name inside)"#),
            ("echo {{ a.b }}", #""{{ a.b }}": expected a variable name (letters, digits and _), optionally followed by | raw"#),
            ("echo {{ 1abc }}", #""{{ 1abc }}": expected a variable name (letters, digits and _), optionally followed by | raw"#),
            ("echo {{ name | upper }}", #"unknown filter "upper" in "{{ name | upper }}" (expected raw)"#),
            ("echo {{ name | }}", #""{{ name | }}": expected a filter name after "|" (raw)"#),
            ("{% if x %}y{% endif %}", #""{%" statements are not supported (use when: on a step)"#),
        ])
    func syntax(template: String, message: String) {
        #expect { try Template(parsing: template) } throws: { ($0 as? TemplateError)?.message == message }
    }

    @Test(
        "rendering errors",
        arguments: [
            ("{{ instal_dir }}", #"unknown variable "instal_dir" (did you mean "install_dir"?)"#),
            ("{{ zzz_unknown }}", #"unknown variable "zzz_unknown""#),
            ("{{ list }}", #"variable "list" is a list; a template inserts text, numbers or booleans"#),
            ("{{ map }}", #"variable "map" is a mapping; a template inserts text, numbers or booleans"#),
            ("{{ loop_a }}", #"variable "loop_a" refers to itself (loop_a -> loop_b -> loop_a)"#),
            ("{{ broken }}", #"in variable "broken": unknown variable "qqq_missing""#),
        ])
    func rendering(template: String, message: String) throws {
        let t = try Template(parsing: template)
        #expect { try Self.scope.render(t, as: .shell) } throws: { ($0 as? TemplateError)?.message == message }
    }

    @Test("layers: playbook defaults < inventory < --var; secret names mark any layer's value")
    func layers() throws {
        let host = Host(name: "mm1", vars: ["install_dir": .string("/srv/mm"), "db_password": .string("from-inventory")])
        let scope = TemplateScope.host(
            host, defaults: ["install_dir": .string("/opt/mattermost"), "port": .int(1), "db_password": .string("")],
            overrides: ["port": .string("2")], secret: ["db_password"], facts: ["target": "5.3.0"])
        let r = try scope.render(Template(parsing: "{{ install_dir }} {{ port }} {{ db_password }} {{ host }} {{ target }}"), as: .shell)
        #expect(r.text == "/srv/mm 2 from-inventory mm1 5.3.0")
        #expect(r.display == "/srv/mm 2 [REDACTED] mm1 5.3.0")
        #expect(Template(literal: "{{ x }}").isLiteral)
        #expect(try Template(parsing: "{{ a }} {{ b | raw }} {{ a }}").variables == ["a", "b"])
    }
}
