#!/bin/sh
# Vault password client for vault id "staging": Ansible runs it and reads stdout.
echo "fleetup-staging-vault-pw"
