#!/usr/bin/env node
// The `lossc` command: list, compile, explain, check, bench. Exit codes: 0 success, 1 a compile
// error (printed as file:line:col: error: ... with the source line and a caret) or a failed check
// or other user error, 2 bad command-line usage. Never a stack trace for a user's mistake.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { SourceErrors, UsageError, UserError } from './errors.js';
import type { Io } from './commands.js';

const EXAMPLES = {
  compile: [
    'lossc compile examples/focal.loss -o out',
    `lossc compile MSELoss --options '{"reduction": "mean"}' --precision float32 --methods valueAndGrad --no-training-variants -o out`,
    'lossc compile examples/customMseFunction.ts --target js,wgsl -o out',
    'lossc compile CrossEntropyLoss -o out',
    'lossc compile CrossEntropyLoss --target wasm -o out',
  ],
  explain: ['lossc explain MSELoss --method valueAndGrad', `lossc explain HuberLoss --options '{"delta": 0.5}'`],
  check: ['lossc check examples/dice.loss', 'lossc check CrossEntropyLoss NLLLoss'],
  bench: ['lossc bench BCEWithLogitsLoss --shape 4096,1024'],
};
const examples = (lines: readonly string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

function version(): string {
  for (const p of ['../../../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(p, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // try the next layout (dist/ or source)
    }
  }
  return 'unknown';
}

const processIo = (): Io => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  progress: process.stderr,
});

/** Run `lossc` with `argv` (the arguments after the command name); resolves to the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2), io: Io = processIo()): Promise<number> {
  let code = 0;
  const program = new Command('lossc')
    .description('lossc: compile loss functions (.loss files, TypeScript, or built-ins) into fused kernels')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showSuggestionAfterError(true)
    .helpCommand(true);
  const commands = (): Promise<typeof import('./commands.js')> => import('./commands.js');
  const method = () => new Option('--method <method>', 'the method to explain').choices(['forward', 'vjp', 'valueAndGrad']).default('forward');
  const options = () => new Option('--options <json>', 'option values as JSON, e.g. \'{"reduction": "sum"}\' (tensor options: arrays)');
  const loss = () => new Option('--loss <name>', 'only the loss of this name (a source may define several)');

  program
    .command('list')
    .description('list the built-in losses: name, inputs, then options with their defaults')
    .action(async () => {
      code = await (await commands()).listCommand(io);
    });

  program
    .command('compile')
    .description(
      'compile every loss of the sources into standalone modules: DIR/<Name>.mjs and DIR/<Name>.cjs (no imports, no eval) with DIR/<Name>.d.mts / .d.cts; with wasm, DIR/<Name>.wasm.mjs / .cjs (WebAssembly kernels, single-threaded); with wgsl, DIR/<Name>.wgsl and DIR/<Name>.wgsl.json',
    )
    .argument('<sources...>', 'a .loss file, a .ts file, or a built-in loss name')
    .requiredOption('-o, --out <dir>', 'the directory to write to (created if missing)')
    .option('--target <targets>', 'js, wasm, wgsl, or several comma-separated (js,wasm)', 'js')
    .addOption(loss())
    .addOption(new Option('--options <json>', 'only the variant these option values choose (the others at their defaults), e.g. \'{"reduction": "sum"}\''))
    .option('--methods <methods>', 'only these methods: forward, vjp, valueAndGrad, comma-separated')
    .option('--precision <precisions>', 'only these precisions: float32, float64, comma-separated')
    .option('--format <formats>', 'module files: mjs, cjs or mjs,cjs', 'mjs,cjs')
    .option('--shared-runtime', 'the run time in DIR/lossc-runtime.mjs / .cjs, imported by each module, instead of inside each')
    .option(
      '--no-training-variants',
      'leave out the training-step kernels (wrt the first input, accumulate): smaller modules whose vjp/valueAndGrad take `out` but not `wrt` or `accumulate`',
    )
    .addHelpText('after', examples(EXAMPLES.compile))
    .action(
      async (
        sources: string[],
        o: {
          out: string;
          target: string;
          loss?: string;
          options?: string;
          methods?: string;
          precision?: string;
          format: string;
          sharedRuntime?: boolean;
          trainingVariants: boolean;
        },
      ) => {
        const c = await commands();
        code = await c.compileCommand(
          {
            sources,
            out: o.out,
            targets: c.parseTargets(o.target),
            loss: o.loss,
            sharedRuntime: o.sharedRuntime === true,
            trainingVariants: o.trainingVariants,
            ...c.parseSelection(o),
          },
          io,
        );
      },
    );

  program
    .command('explain')
    .description("print a loss's graph, simplified gradient graph and kernel plan (Loss.explain's text)")
    .argument('<source>', 'a .loss file, a .ts file, or a built-in loss name')
    .addOption(method())
    .addOption(options())
    .addOption(loss())
    .addHelpText('after', examples(EXAMPLES.explain))
    .action(async (source: string, o: { method: 'forward' | 'vjp' | 'valueAndGrad'; options?: string; loss?: string }) => {
      code = await (await commands()).explainCommand({ source, method: o.method, options: o.options, loss: o.loss }, io);
    });

  program
    .command('check')
    .description("check each loss's gradients against central finite differences in float64, on random valid inputs (exit 1 on a mismatch)")
    .argument('<sources...>', '.loss files, .ts files, or built-in loss names')
    .addOption(options())
    .addOption(loss())
    .option('--seed <n>', 'random seed', '1')
    .option('--tolerance <x>', 'largest allowed |grad - fd| / max(1, |fd|)', '1e-5')
    .option('--shape <dims>', 'shape of the inputs nothing else shapes, e.g. 4,5')
    .addHelpText('after', examples(EXAMPLES.check))
    .action(async (sources: string[], o: { options?: string; loss?: string; seed: string; tolerance: string; shape?: string }) => {
      const c = await commands();
      code = await c.checkCommand(
        {
          sources,
          options: o.options,
          loss: o.loss,
          seed: number('--seed', o.seed),
          tolerance: number('--tolerance', o.tolerance),
          shape: o.shape === undefined ? undefined : c.parseShape(o.shape, c.CHECK_MAX_ELEMENTS, 'check'),
        },
        io,
      );
    });

  program
    .command('bench')
    .description('median time of valueAndGrad (vjp for an unreduced loss) on random data')
    .argument('<source>', 'a .loss file, a .ts file, or a built-in loss name')
    .option('--shape <dims>', 'shape of the float inputs, e.g. 4096,1024', '1024,256')
    .addOption(new Option('--dtype <dtype>', 'float precision').choices(['float32', 'float64']).default('float32'))
    .option('--time <ms>', 'time budget per loss in milliseconds', '200')
    .addOption(options())
    .addOption(loss())
    .addHelpText('after', examples(EXAMPLES.bench))
    .action(async (source: string, o: { shape: string; dtype: 'float32' | 'float64'; time: string; options?: string; loss?: string }) => {
      const c = await commands();
      code = await c.benchCommand(
        { source, shape: c.parseShape(o.shape), dtype: o.dtype, time: number('--time', o.time), options: o.options, loss: o.loss },
        io,
      );
    });

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return report(e, io);
  }
}

function number(flag: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v)) throw new UsageError(`${flag} must be a number, not '${text}'`);
  return v;
}

/** Print an error the way a compiler does and choose the exit code. */
async function report(e: unknown, io: Io): Promise<number> {
  if (e instanceof CommanderError) {
    // commander printed the message (or the help / version) already
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
  }
  if (e instanceof UsageError) {
    io.err(`lossc: ${e.message}\n`);
    return 2;
  }
  if (e instanceof SourceErrors) {
    const { formatDiagnostic } = await import('../dsl/diagnostics.js');
    for (const d of e.diagnostics) io.err(`${formatDiagnostic(d, e.source)}\n`);
    const n = e.diagnostics.filter((d) => d.severity === 'error').length;
    io.err(`${n} error${n === 1 ? '' : 's'}\n`);
    return 1;
  }
  if (e instanceof UserError) {
    io.err(`lossc: error: ${e.message}\n`);
    return 1;
  }
  const { CompileError } = await import('../dsl/diagnostics.js');
  if (e instanceof CompileError) {
    io.err(`${e.message}\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(
    `lossc: internal error: ${err.message}\n${process.env.LOSSC_DEBUG ? `${err.stack}\n` : '(set LOSSC_DEBUG=1 for the stack trace; please report it)\n'}`,
  );
  return 1;
}

/** Run when executed as the `lossc` binary (not when imported by tests). */
const invokedPath = process.argv[1] ? safeRealpath(process.argv[1]) : '';
if (invokedPath && invokedPath === safeRealpath(fileURLToPath(import.meta.url))) {
  main().then(
    (code) => {
      process.exitCode = code;
      // the command is over: nothing it started may keep the process alive (an unref'd timer fires only if something does)
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (e: unknown) => {
      process.stderr.write(`lossc: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
