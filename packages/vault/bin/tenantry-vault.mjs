#!/usr/bin/env node
// The `tenantry-vault` command (see `tenantry-vault --help` and the README of @tenantry/vault).
import { runCli } from '@tenantry/vault/cli';

const code = await runCli(process.argv.slice(2));
// The host's config may leave handles open (pools it did not close): the command is done, so exit.
process.exit(code);
