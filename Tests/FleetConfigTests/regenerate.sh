#!/usr/bin/env bash
# Regenerates the conformance corpus's expected outputs with the real ansible-inventory.
# CI never runs this: the outputs are committed, and InventoryCorpusTests compares
# fleetup with them. Run it only after adding or changing a case.
#
#   python3 -m venv /tmp/ansible-venv && /tmp/ansible-venv/bin/pip install ansible-core
#   ANSIBLE_INVENTORY=/tmp/ansible-venv/bin/ansible-inventory Tests/FleetConfigTests/regenerate.sh
#
# Fixtures were made with ansible-core 2.19.14 (Python 3.11, PyYAML 6.0.4 with libyaml).
#
# A case is a folder of Fixtures/corpus/ holding inventory files and:
#   sources             the -i values, one per line, relative to the case folder
#   limit               optional --limit pattern
#   show-graph          present: also record --graph
#   show-hosts          optional host names, one per line: also record --host NAME
#   expected-error.txt  present: an input fleetup refuses (the file is fleetup's message,
#                       written by hand); Ansible's output is recorded as ansible.json
#                       beside it to show what Ansible made of it
# Written here: expected.json (--list), expected.yaml (--list --yaml), expected-graph.txt,
# expected-host-NAME.json, and ansible-stderr.txt (Ansible's warnings, paths made relative).
set -euo pipefail
inventory_cmd=${ANSIBLE_INVENTORY:-ansible-inventory}
corpus="$(cd "$(dirname "$0")" && pwd)/Fixtures/corpus"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
run() {  # quiet, colourless, no user config
    env -i PATH="$PATH" HOME="$home" ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=False \
        "$inventory_cmd" "$@"
}
for dir in "$corpus"/*/; do
    dir=${dir%/}
    cd "$dir"
    args=()
    while read -r s; do args+=(-i "$s"); done < sources
    limit=()
    [[ -f limit ]] && limit=(--limit "$(cat limit)")
    rm -f expected.json expected.yaml expected-graph.txt expected-host-*.json ansible.json ansible-stderr.txt
    if [[ -f expected-error.txt ]]; then
        run "${args[@]}" "${limit[@]}" --list > ansible.json 2> ansible-stderr.txt || echo "exit $?" >> ansible-stderr.txt
    else
        run "${args[@]}" "${limit[@]}" --list > expected.json 2> ansible-stderr.txt
        run "${args[@]}" "${limit[@]}" --list --yaml > expected.yaml 2>/dev/null
        [[ -f show-graph ]] && run "${args[@]}" --graph > expected-graph.txt 2>/dev/null
        if [[ -f show-hosts ]]; then
            while read -r h; do run "${args[@]}" --host "$h" > "expected-host-$h.json" 2>/dev/null; done < show-hosts
        fi
    fi
    sed -i "s#$dir/##g; s#$dir#.#g" ansible-stderr.txt
    [[ -s ansible-stderr.txt ]] || rm -f ansible-stderr.txt
    echo "$(basename "$dir")"
done
