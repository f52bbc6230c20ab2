// Dependency policy, checked offline from package.json, package-lock.json and node_modules (no registry, no audit
// endpoint): exact pins, a lockfile in sync with integrity hashes, only the production dependencies listed in
// security/dependencies.json, production licenses from its allowlist, no install scripts in production, and no
// package version named in security/advisories.json. `npm run audit:deps`; exit 1 with one line per problem.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageJson {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

export interface LockEntry {
  readonly version?: string;
  readonly integrity?: string;
  readonly license?: string;
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly inBundle?: boolean;
  readonly link?: boolean;
  readonly hasInstallScript?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

export interface Lockfile {
  readonly lockfileVersion: number;
  readonly packages: Readonly<Record<string, LockEntry>>;
}

export interface Advisory {
  readonly package: string;
  readonly vulnerable: readonly string[];
  readonly id: string;
  readonly url: string;
}

export interface DependencyPolicy {
  readonly production: Readonly<Record<string, string>>;
  readonly licenses: readonly string[];
}

// ---- versions and ranges (the subset of node-semver the advisory file uses) ----

interface Version {
  readonly parts: readonly [number, number, number];
  readonly prerelease: readonly string[];
}

const exactVersion =
  /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(text: string): Version {
  const match = exactVersion.exec(text);
  if (!match) throw new Error(`"${text}" is not an exact version (x.y.z)`);
  return {
    parts: [Number(match[1]), Number(match[2]), Number(match[3])],
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
  };
}

function compareIdentifiers(a: string, b: string): number {
  const numeric = /^[0-9]+$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b);
  if (numeric.test(a)) return -1;
  if (numeric.test(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Pre-release precedence: none sorts after any; else identifier by identifier, a shorter list first. */
function comparePrereleases(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return Math.sign(b.length - a.length);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const diff = compareIdentifiers(x, y);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** SemVer 2.0.0 precedence: a pre-release sorts before its release. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const diff = (a.parts[i] ?? 0) - (b.parts[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return comparePrereleases(a.prerelease, b.prerelease);
}

const comparatorTests: Readonly<Record<string, (order: number) => boolean>> = {
  '<': order => order < 0,
  '<=': order => order <= 0,
  '>': order => order > 0,
  '>=': order => order >= 0,
  '=': order => order === 0,
};

/** `range` is alternatives joined by "||", each a space-separated AND of comparators ("<", "<=", ">", ">=", "="). */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  return range.split('||').some(alternative =>
    alternative
      .trim()
      .split(/\s+/)
      .every(comparator => {
        const match = /^(<=|>=|<|>|=)?(.+)$/.exec(comparator);
        const test = comparatorTests[match?.[1] ?? '='];
        if (!match || test === undefined)
          throw new Error(`unsupported comparator "${comparator}" in "${range}"`);
        return test(compareVersions(v, parseVersion(match[2] ?? '')));
      }),
  );
}

// ---- licenses ----

/** An SPDX expression is allowed when its OR alternatives have one allowed branch and AND terms are all allowed. */
export function licenseAllowed(expression: string, allowlist: readonly string[]): boolean {
  const tokens = expression.replace(/[()]/g, ' $& ').trim().split(/\s+/);
  let position = 0;
  const next = (): string | undefined => tokens[position];
  const term = (): boolean => {
    const token = tokens[position++];
    if (token === '(') {
      const value = or();
      if (tokens[position++] !== ')') throw new Error(`unbalanced parentheses in "${expression}"`);
      return value;
    }
    if (token === undefined || ['AND', 'OR', 'WITH', ')'].includes(token))
      throw new Error(`malformed license expression "${expression}"`);
    // "X WITH exception" grants at least what X grants.
    if (next() === 'WITH') position += 2;
    return allowlist.includes(token.replace(/\+$/, ''));
  };
  const and = (): boolean => {
    let value = term();
    while (next() === 'AND') {
      position++;
      value = term() && value;
    }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (next() === 'OR') {
      position++;
      value = and() || value;
    }
    return value;
  };
  const result = or();
  if (position !== tokens.length) throw new Error(`malformed license expression "${expression}"`);
  return result;
}

/** The license a package declares: the SPDX `license` string, or the legacy object and `licenses` array forms. */
export function declaredLicense(manifest: Record<string, unknown>): string | undefined {
  const license = manifest.license;
  if (typeof license === 'string') return license;
  if (
    typeof license === 'object' &&
    license !== null &&
    typeof (license as { type?: unknown }).type === 'string'
  )
    return (license as { type: string }).type;
  const licenses = manifest.licenses;
  if (Array.isArray(licenses)) {
    const types = licenses.map(l => (l as { type?: unknown }).type).filter(t => typeof t === 'string');
    return types.length > 0 ? `(${types.join(' OR ')})` : undefined;
  }
  return undefined;
}

// ---- checks: each returns one line per problem ----

export function checkPins(pkg: PackageJson): string[] {
  const problems: string[] = [];
  for (const [field, deps] of Object.entries({
    dependencies: pkg.dependencies,
    devDependencies: pkg.devDependencies,
  })) {
    for (const [name, spec] of Object.entries(deps ?? {})) {
      if (!exactVersion.test(spec))
        problems.push(
          `package.json ${field}.${name}: "${spec}" is not an exact version; pin it (npm install --save-exact)`,
        );
    }
  }
  return problems;
}

/** One dependency of package.json against the lockfile's root entry and its top-level package. */
interface Pin {
  readonly field: string;
  readonly name: string;
  readonly wanted: string | undefined;
  readonly locked: string | undefined;
}

function pinInSync(lock: Lockfile, { field, name, wanted, locked }: Pin): string[] {
  const problems: string[] = [];
  if (wanted !== locked)
    problems.push(
      `package-lock.json is out of date: ${field}.${name} is ${locked ?? 'absent'} there, ${wanted ?? 'absent'} in package.json; run npm install`,
    );
  const installed = lock.packages[`node_modules/${name}`]?.version;
  if (wanted !== undefined && installed !== wanted)
    problems.push(
      `package-lock.json resolves ${name} to ${installed ?? 'nothing'}, package.json pins ${wanted}`,
    );
  return problems;
}

/** The lockfile's root entry and top-level packages agree with package.json's exact pins. */
function checkLockInSync(lock: Lockfile, pkg: PackageJson): string[] {
  const root = lock.packages[''] ?? {};
  return (['dependencies', 'devDependencies'] as const).flatMap(field => {
    const wanted = pkg[field] ?? {};
    const locked = root[field] ?? {};
    return [...new Set([...Object.keys(wanted), ...Object.keys(locked)])].flatMap(name =>
      pinInSync(lock, { field, name, wanted: wanted[name], locked: locked[name] }),
    );
  });
}

/** Every fetched tarball is pinned by hash (bundled packages ride in their parent's tarball). */
function checkIntegrity(lock: Lockfile): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.link !== true && entry.inBundle !== true)
    .filter(([, entry]) => !(entry.integrity ?? '').startsWith('sha512-'))
    .map(
      ([path]) => `package-lock.json ${path}: no sha512 integrity hash, so npm ci cannot verify the tarball`,
    );
}

export function checkLockfile(lock: Lockfile, pkg: PackageJson): string[] {
  const version =
    lock.lockfileVersion < 2
      ? [`package-lock.json: lockfileVersion ${lock.lockfileVersion}; use npm 7 or later`]
      : [];
  return [...version, ...checkLockInSync(lock, pkg), ...checkIntegrity(lock)];
}

export function checkProductionSet(pkg: PackageJson, policy: DependencyPolicy): string[] {
  return Object.keys(pkg.dependencies ?? {})
    .filter(name => !Object.hasOwn(policy.production, name))
    .map(
      name =>
        `production dependency ${name} is not in security/dependencies.json: add it there with the reason, or make it a devDependency`,
    );
}

/** Production packages: every lockfile entry not marked dev (what `npm ci --omit=dev` installs). */
export function productionEntries(lock: Lockfile): [string, LockEntry][] {
  return Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev !== true);
}

/** What is wrong with one installed production package's license declaration (empty when nothing). */
function licenseProblems(
  label: string,
  entry: LockEntry,
  manifest: Record<string, unknown>,
  policy: DependencyPolicy,
): string[] {
  const license = declaredLicense(manifest);
  if (license === undefined) return [`${label}: declares no license`];
  const problems: string[] = [];
  if (entry.license !== undefined && entry.license !== license)
    problems.push(
      `${label.split('@')[0] ?? label}: node_modules says ${license}, package-lock.json says ${entry.license}`,
    );
  try {
    if (!licenseAllowed(license, policy.licenses))
      problems.push(`${label}: license ${license} is not on the allowlist in security/dependencies.json`);
  } catch (error) {
    problems.push(`${label}: ${(error as Error).message}`);
  }
  return problems;
}

export function checkLicenses(
  lock: Lockfile,
  policy: DependencyPolicy,
  readManifest: (path: string) => Record<string, unknown> | undefined,
): string[] {
  const problems: string[] = [];
  for (const [path, entry] of productionEntries(lock)) {
    const label = `${path}@${entry.version ?? '?'}`;
    const manifest = readManifest(path);
    if (manifest === undefined) {
      // Optional packages for other platforms are never installed here.
      if (entry.optional !== true) problems.push(`${path}: not installed; run npm ci before this check`);
      continue;
    }
    problems.push(...licenseProblems(label, entry, manifest, policy));
    if (entry.hasInstallScript === true)
      problems.push(`${label}: has an install script; the image installs with --ignore-scripts`);
  }
  return problems;
}

function packageName(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

export function checkAdvisories(lock: Lockfile, advisories: readonly Advisory[]): string[] {
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.version === undefined) continue;
    const name = packageName(path);
    for (const advisory of advisories) {
      if (advisory.package !== name) continue;
      const hit = advisory.vulnerable.find(range => satisfies(entry.version ?? '', range));
      if (hit !== undefined)
        problems.push(
          `${path}@${entry.version} (${entry.dev === true ? 'dev' : 'production'}): ${advisory.id} affects ${hit}; ${advisory.url}`,
        );
    }
  }
  return problems;
}

// ---- the command ----

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export interface Report {
  readonly problems: string[];
  readonly production: number;
  readonly total: number;
  readonly licenses: Readonly<Record<string, number>>;
}

export function runChecks(root: string): Report {
  const pkg = readJson(join(root, 'package.json')) as PackageJson;
  const lock = readJson(join(root, 'package-lock.json')) as Lockfile;
  const policy = readJson(join(root, 'security', 'dependencies.json')) as DependencyPolicy;
  const { advisories } = readJson(join(root, 'security', 'advisories.json')) as { advisories: Advisory[] };
  const readManifest = (path: string): Record<string, unknown> | undefined => {
    const file = join(root, path, 'package.json');
    return existsSync(file) ? (readJson(file) as Record<string, unknown>) : undefined;
  };
  const production = productionEntries(lock);
  const licenses: Record<string, number> = {};
  for (const [path] of production) {
    const license = declaredLicense(readManifest(path) ?? {}) ?? 'none';
    licenses[license] = (licenses[license] ?? 0) + 1;
  }
  return {
    problems: [
      ...checkPins(pkg),
      ...checkLockfile(lock, pkg),
      ...checkProductionSet(pkg, policy),
      ...checkLicenses(lock, policy, readManifest),
      ...checkAdvisories(lock, advisories),
    ],
    production: production.length,
    total: Object.keys(lock.packages).length - 1,
    licenses,
  };
}

function main(): number {
  const report = runChecks(join(import.meta.dirname, '..'));
  const licenses = Object.entries(report.licenses)
    .sort(([, a], [, b]) => b - a)
    .map(([license, count]) => `${license} ${count}`)
    .join(', ');
  process.stdout.write(`${report.total} locked packages, ${report.production} in production (${licenses})\n`);
  for (const problem of report.problems) process.stderr.write(`deps-check: ${problem}\n`);
  if (report.problems.length > 0) return 1;
  process.stdout.write('deps-check: pins, lockfile, production set, licenses and advisories are fine\n');
  return 0;
}

if (import.meta.main) process.exitCode = main();
