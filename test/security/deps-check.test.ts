// scripts/deps-check.ts: each check fails on what it guards against, and the repository passes all of them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkAdvisories,
  checkLicenses,
  checkLockfile,
  checkPins,
  checkProductionSet,
  declaredLicense,
  licenseAllowed,
  runChecks,
  satisfies,
  type Lockfile,
} from '../../scripts/deps-check.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const allow = ['MIT', 'ISC', 'Apache-2.0', 'BSD-3-Clause'];

describe('deps-check', () => {
  it('version ranges: comparators, AND within an alternative, OR between them, pre-releases', () => {
    expect(satisfies('2.88.2', '<=2.88.2')).toBe(true);
    expect(satisfies('2.88.3', '<=2.88.2')).toBe(false);
    expect(satisfies('3.0.3', '>=3.0.0 <3.0.4')).toBe(true);
    expect(satisfies('3.0.4', '>=3.0.0 <3.0.4')).toBe(false);
    expect(satisfies('4.0.3', '<2.5.4 || >=4.0.0 <4.0.4')).toBe(true);
    expect(satisfies('2.6.0', '<2.5.4 || >=4.0.0 <4.0.4')).toBe(false);
    expect(satisfies('7.0.5-rc.1', '<7.0.5')).toBe(true);
    expect(satisfies('7.0.5', '=7.0.5')).toBe(true);
    expect(() => satisfies('1.0.0', '^1.0.0')).toThrow(/unsupported comparator|not an exact version/);
  });

  it('licenses: SPDX OR needs one allowed branch, AND needs all; legacy forms are read', () => {
    expect(licenseAllowed('MIT', allow)).toBe(true);
    expect(licenseAllowed('(MIT OR GPL-3.0)', allow)).toBe(true);
    expect(licenseAllowed('(Apache-2.0 AND BSD-3-Clause)', allow)).toBe(true);
    expect(licenseAllowed('(Apache-2.0 AND GPL-2.0)', allow)).toBe(false);
    expect(licenseAllowed('GPL-2.0 WITH Classpath-exception-2.0', allow)).toBe(false);
    expect(licenseAllowed('Apache-2.0 WITH LLVM-exception', allow)).toBe(true);
    expect(() => licenseAllowed('SEE LICENSE IN LICENSE.txt', allow)).toThrow(/malformed/);
    expect(() => licenseAllowed('(MIT', allow)).toThrow(/unbalanced|malformed/);
    expect(declaredLicense({ license: { type: 'MIT' } })).toBe('MIT');
    expect(declaredLicense({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] })).toBe(
      '(MIT OR Apache-2.0)',
    );
    expect(declaredLicense({})).toBeUndefined();
  });

  it('pins: ranges, tags, URLs and workspaces are refused; exact versions pass', () => {
    expect(
      checkPins({
        dependencies: { a: '1.2.3', b: '^1.2.3', c: '~1.2.3', d: 'latest', e: 'github:x/y', f: '1.2.3-rc.1' },
        devDependencies: { g: '*', h: '>=1.0.0' },
      }).map(p => p.split(':')[0]),
    ).toEqual([
      'package.json dependencies.b',
      'package.json dependencies.c',
      'package.json dependencies.d',
      'package.json dependencies.e',
      'package.json devDependencies.g',
      'package.json devDependencies.h',
    ]);
  });

  it('lockfile: out of sync with package.json, or an entry without an integrity hash, fails', () => {
    const lock: Lockfile = {
      lockfileVersion: 3,
      packages: {
        '': { dependencies: { a: '1.0.0' } },
        'node_modules/a': { version: '1.0.1', integrity: 'sha512-x' },
        'node_modules/b': { version: '1.0.0' },
        'node_modules/c': { version: '1.0.0', inBundle: true },
      },
    };
    expect(checkLockfile(lock, { dependencies: { a: '1.0.0' } })).toEqual([
      'package-lock.json resolves a to 1.0.1, package.json pins 1.0.0',
      'package-lock.json node_modules/b: no sha512 integrity hash, so npm ci cannot verify the tarball',
    ]);
    expect(checkLockfile(lock, { dependencies: { a: '1.0.0', z: '2.0.0' } })).toContain(
      'package-lock.json is out of date: dependencies.z is absent there, 2.0.0 in package.json; run npm install',
    );
  });

  it('production set: a production dependency nobody justified fails', () => {
    expect(
      checkProductionSet(
        { dependencies: { zod: '4.6.7', leftpad: '1.0.0' } },
        { production: { zod: 'schemas' }, licenses: [] },
      ),
    ).toEqual([
      'production dependency leftpad is not in security/dependencies.json: add it there with the reason, or make it a devDependency',
    ]);
  });

  it('licenses of production packages only; missing, unknown and install scripts fail', () => {
    const lock: Lockfile = {
      lockfileVersion: 3,
      packages: {
        '': {},
        'node_modules/ok': { version: '1.0.0', license: 'MIT' },
        'node_modules/gpl': { version: '1.0.0', license: 'GPL-3.0' },
        'node_modules/devgpl': { version: '1.0.0', license: 'GPL-3.0', dev: true },
        'node_modules/script': { version: '1.0.0', license: 'MIT', hasInstallScript: true },
        'node_modules/gone': { version: '1.0.0' },
        'node_modules/platform': { version: '1.0.0', optional: true },
        'node_modules/lies': { version: '1.0.0', license: 'MIT' },
      },
    };
    const manifests: Record<string, Record<string, unknown>> = {
      'node_modules/ok': { license: 'MIT' },
      'node_modules/gpl': { license: 'GPL-3.0' },
      'node_modules/devgpl': { license: 'GPL-3.0' },
      'node_modules/script': { license: 'MIT' },
      'node_modules/lies': { license: 'SSPL-1.0' },
    };
    expect(checkLicenses(lock, { production: {}, licenses: allow }, path => manifests[path])).toEqual([
      'node_modules/gpl@1.0.0: license GPL-3.0 is not on the allowlist in security/dependencies.json',
      'node_modules/script@1.0.0: has an install script; the image installs with --ignore-scripts',
      'node_modules/gone: not installed; run npm ci before this check',
      'node_modules/lies: node_modules says SSPL-1.0, package-lock.json says MIT',
      'node_modules/lies@1.0.0: license SSPL-1.0 is not on the allowlist in security/dependencies.json',
    ]);
  });

  it('advisories: a vulnerable version anywhere in the tree fails, nested copies included', () => {
    const lock: Lockfile = {
      lockfileVersion: 3,
      packages: {
        '': {},
        'node_modules/form-data': { version: '4.0.3' },
        'node_modules/x/node_modules/form-data': { version: '2.5.4' },
        'node_modules/cross-spawn': { version: '7.0.3', dev: true },
        'node_modules/not-form-data': { version: '1.0.0' },
      },
    };
    const advisories = [
      {
        package: 'form-data',
        vulnerable: ['<2.5.4', '>=4.0.0 <4.0.4'],
        id: 'GHSA-fjxv-7rqg-78g4',
        url: 'u1',
      },
      { package: 'cross-spawn', vulnerable: ['>=7.0.0 <7.0.5'], id: 'GHSA-3xgq-45jj-v275', url: 'u2' },
    ];
    expect(checkAdvisories(lock, advisories)).toEqual([
      'node_modules/form-data@4.0.3 (production): GHSA-fjxv-7rqg-78g4 affects >=4.0.0 <4.0.4; u1',
      'node_modules/cross-spawn@7.0.3 (dev): GHSA-3xgq-45jj-v275 affects >=7.0.0 <7.0.5; u2',
    ]);
  });

  it('the repository passes: exact pins, lockfile in sync, allowed licenses, no listed advisory', () => {
    const report = runChecks(repoRoot);
    expect(report.problems).toEqual([]);
    expect(report.production).toBeGreaterThan(0);
  });

  it('npm run audit:deps exits 0 and says what it checked', () => {
    const run = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'deps-check.ts')], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\d+ locked packages, \d+ in production \(MIT \d+/);
  });
});
