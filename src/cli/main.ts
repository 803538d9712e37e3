#!/usr/bin/env node
// The `credence` command.

import { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerCommands } from './commands.js';
import { registerDataspace } from './dataspace.js';
import { registerData } from './data.js';
import { registerDemo } from './demo.js';
import { registerReport } from './report.js';
import { registerPrivacy } from './privacy.js';
import { registerId } from './id.js';
import { registerNetworkOps } from './networkCommands.js';

const program = new Command();
program
  .name('credence')
  .description('credence: a trusted data space for credit information (permissioned blockchain)')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');
registerCommands(program);
registerNetworkOps(program);
registerDemo(program);
registerPrivacy(program);
registerBench(program);
registerId(program);
registerDataspace(program);
registerData(program);
registerReport(program);
await program.parseAsync(process.argv);
