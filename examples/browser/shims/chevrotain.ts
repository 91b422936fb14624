// Browser stand-in for dsl/chevrotain.ts (swapped in by vite.config.ts). dsl/chevrotain.ts finds
// chevrotain's single-file bundle with node:module's createRequire, which a browser has not; here
// the plain import is resolved by Vite, whose alias in vite.config.ts points 'chevrotain' at
// that same bundle (node_modules/chevrotain/lib/chevrotain.mjs). Same exports.
export { CstParser, EOF, Lexer, createToken, createTokenInstance } from 'chevrotain';
export type { CstElement, CstNode, ICstVisitor, ILexingError, IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from 'chevrotain';
