#!/usr/bin/env node
/**
 * keyward-agent: the device agent's bin (`keyward-agent help` lists the commands). The commands
 * themselves are in cli-main.ts; this entry passes them the command line and nothing else.
 */
import { runAgentCli } from './cli-main.ts';

void runAgentCli(process.argv.slice(2));
