// chevrotain, loaded from its single-file bundle: the package's entry point is some sixty ESM
// files and takes ~0.4 s to load here, the bundle ~0.05 s, and `lossc` loads the parser at start
// (the built-in losses are .loss files). The package's exports map only opens its entry, so the
// bundle is found next to it. Types come from the package as usual.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

const entry = createRequire(import.meta.url).resolve('chevrotain');
const bundle = (await import(pathToFileURL(join(dirname(entry), '..', 'chevrotain.mjs')).href)) as typeof Chevrotain;

export const { CstParser, EOF, Lexer, createToken, createTokenInstance } = bundle;
export type { CstElement, CstNode, ICstVisitor, ILexingError, IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from 'chevrotain';
