/**
 * The house rules of the code base, checked on the sources themselves (docs/architecture.md):
 * which layer may import which, how large a file of shared/ and a function may grow.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every TypeScript source file under a folder of the repository, as repository paths. */
function sourcesUnder(folder: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const relative = path.posix.join(dir, name);
      if (statSync(path.join(ROOT, relative)).isDirectory()) visit(relative);
      else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) found.push(relative);
    }
  };
  visit(folder);
  return found.sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(
    file,
    readFileSync(path.join(ROOT, file), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
}

/** The repository paths a file imports (relative imports only; packages are not ours). */
function importsOf(file: string): string[] {
  const source = parse(file);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
}

/** The layer of a repository path: the folder under shared/, or the top folder. */
function layerOf(file: string): string {
  const [top, second] = file.split('/');
  return top === 'shared' ? `shared/${second}` : (top ?? file);
}

// What each layer may import of ours (besides itself). Everything not listed is refused.
const MAY_IMPORT: Record<string, readonly string[]> = {
  'shared/domain': [],
  'shared/ports': ['shared/domain'],
  'shared/application': ['shared/domain', 'shared/ports'],
  'shared/config': ['shared/domain'],
  'shared/adapters': ['shared/domain', 'shared/ports', 'shared/application', 'shared/config'],
  'shared/http': ['shared/domain', 'shared/ports', 'shared/application', 'shared/config'],
  // The composition root wires adapters and the HTTP layer to the use cases; only the Lambdas,
  // the local stack and bin/ build on it.
  'shared/composition': [
    'shared/domain',
    'shared/ports',
    'shared/application',
    'shared/config',
    'shared/adapters',
    'shared/http',
  ],
};

describe('layering', () => {
  const files = sourcesUnder('shared');

  it.each(Object.keys(MAY_IMPORT))('%s imports only the layers below it', (layer) => {
    const allowed = new Set([layer, ...(MAY_IMPORT[layer] ?? [])]);
    const offending = files
      .filter((file) => layerOf(file) === layer)
      .flatMap((file) =>
        importsOf(file)
          .filter((target) => !allowed.has(layerOf(target)))
          .map((target) => `${file} -> ${target}`),
      );
    expect(offending).toEqual([]);
  });

  it('has found the layers it checks (the rule cannot pass on an empty tree)', () => {
    for (const layer of Object.keys(MAY_IMPORT)) {
      expect(
        files.some((file) => layerOf(file) === layer),
        layer,
      ).toBe(true);
    }
  });
});

describe('console', () => {
  // The console talks to the service only through the API; of the service's code it shares
  // the browser-safe schedule module, so its period-end preview is the service's own rule.
  const MAY_IMPORT_FROM_SHARED = ['shared/domain/schedule.js'];

  it('imports nothing of the service but the schedule module', () => {
    const files = sourcesUnder('console/src');
    expect(files.length).toBeGreaterThan(5);
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => !target.startsWith('console/'))
        .filter((target) => !MAY_IMPORT_FROM_SHARED.includes(target))
        .map((target) => `${file} -> ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('is not imported by the service', () => {
    const offending = ['shared', 'lambdas', 'lib'].flatMap((folder) =>
      sourcesUnder(folder).flatMap((file) =>
        importsOf(file)
          .filter((target) => target.startsWith('console/'))
          .map((target) => `${file} -> ${target}`),
      ),
    );
    expect(offending).toEqual([]);
  });
});

describe('size', () => {
  const MAX_FILE_LINES = 400;
  const MAX_FUNCTION_LINES = 60;

  it(`keeps every hand-written file of shared/ within ${MAX_FILE_LINES} lines`, () => {
    const long = sourcesUnder('shared')
      .map((file) => ({
        file,
        lines: readFileSync(path.join(ROOT, file), 'utf8').split('\n').length,
      }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ file, lines }) => `${file}: ${lines}`);
    expect(long).toEqual([]);
  });

  it(`keeps every function outside tests and CDK dashboards within ${MAX_FUNCTION_LINES} lines`, () => {
    const files = ['shared', 'lambdas', 'lib', 'bin'].flatMap(sourcesUnder);
    const long: string[] = [];
    for (const file of files) {
      const source = parse(file);
      const visit = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          const name = ts.isConstructorDeclaration(node)
            ? 'constructor'
            : (node.name?.getText(source) ?? '(anonymous)');
          const dashboard = name.toLowerCase().includes('dashboard');
          if (end - start + 1 > MAX_FUNCTION_LINES && !dashboard) {
            long.push(`${file}:${start + 1} ${name}: ${end - start + 1} lines`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });
});
