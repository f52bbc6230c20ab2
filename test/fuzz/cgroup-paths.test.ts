// Fuzz: the agent's path construction (src/agent/cgroup/layout.ts, safe-path.ts). Every cgroup and /proc path is
// built from a pod UID, a QoS class, a container directory name and a knob file name; whatever those hold (../,
// absolute paths, NUL, newlines, 10 MB), the result is refused with PathRefusedError or lies under its root.
import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CgroupLayout, v1Controllers, type CgroupDriver } from '../../src/agent/cgroup/layout.ts';
import {
  assertAbsoluteRoot,
  assertPlainName,
  assertPodUid,
  PathRefusedError,
  resolveUnder,
  splitRelativeDir,
} from '../../src/agent/cgroup/safe-path.ts';
import { kubeQoSClasses } from '../../src/api/group.ts';
import { MemoryFs } from '../agent/helpers/memory-fs.ts';
import { fuzz, fuzzAsync, fuzzSettings } from './support/config.ts';
import { hostileString } from './support/hostile.ts';
import { uidArb } from './support/objects.ts';

const settings = fuzzSettings('cgroup-paths', 20_000, 0.3);
const listingSettings = fuzzSettings('cgroup-listing', 10_000, 0.5);

/** Path parts: hostile strings, traversal built from pieces, and the legitimate shapes. */
const partArb = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom('..', '.', '', 'a', 'kubepods', '/', '\\', '\0', '\n', 'pod'), {
        minLength: 1,
        maxLength: 6,
      })
      .map(pieces => pieces.join('')),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom('..', '.', 'a', 'b.slice', ''), { minLength: 1, maxLength: 5 })
      .map(segments => segments.join('/')),
  },
  { weight: 1, arbitrary: uidArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom('kubepods', 'kubepods.slice', 'cpu,cpuacct', 'cri-containerd-1.scope'),
  },
);

const rootArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('/sys/fs/cgroup', '/host/sys/fs/cgroup', '/cg', '/') },
  { weight: 1, arbitrary: partArb },
);

function refused(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    // The only acceptable failure is a refusal that says what was refused.
    if (!(error instanceof PathRefusedError)) throw error;
    expect(error.message).toMatch(/^(refused |cgroup v1 controller \w+ is not mounted)/);
    expect(error.message.length).toBeLessThan(400);
    return error;
  }
}

/** A produced path is absolute, normalised, free of NUL, and under the root. */
function expectUnder(path: unknown, root: string): void {
  if (path instanceof PathRefusedError) return;
  expect(typeof path).toBe('string');
  const text = path as string;
  expect(text.includes('\0')).toBe(false);
  expect(posix.normalize(text)).toBe(text);
  const base = posix.resolve(root);
  expect(text === base || text.startsWith(base === '/' ? '/' : `${base}/`), `${text} under ${base}`).toBe(
    true,
  );
}

const caseArb = fc.record({
  root: rootArb,
  version: fc.constantFrom('v1' as const, 'v2' as const),
  driver: fc.constantFrom<CgroupDriver>('cgroupfs', 'systemd'),
  kubepodsDir: fc.option(partArb, { nil: undefined }),
  mount: fc.option(partArb, { nil: undefined }),
  uid: fc.oneof({ weight: 1, arbitrary: uidArb }, { weight: 2, arbitrary: partArb }),
  kubeQoS: fc.constantFrom(...kubeQoSClasses),
  controller: fc.constantFrom(...v1Controllers),
  container: partArb,
  file: partArb,
  // resolveUnder's parts are always names checked first (<= 255 bytes) or UIDs: 10 MB parts would only time
  // path.resolve, so they are cut to 4 KiB here (the 10 MB strings reach every checked input above).
  parts: fc.array(
    partArb.map(part => part.slice(0, 4096)),
    { maxLength: 4 },
  ),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function checkLayout(c: Case): void {
  const layout = refused(
    () =>
      new CgroupLayout({
        cgroupRoot: c.root,
        version: c.version,
        driver: c.driver,
        kubepodsDir: c.kubepodsDir,
        v1Mounts: c.mount === undefined ? undefined : { cpu: c.mount, memory: 'memory' },
      }),
  );
  if (!(layout instanceof CgroupLayout)) return;
  const root = layout.root;
  const podDir = refused(() => layout.podDir(c.controller, c.uid, c.kubeQoS));
  expectUnder(podDir, root);
  if (typeof podDir !== 'string') return;
  // A pod directory is named after the strict UID: pod<uid> (cgroupfs) or ...-pod<uid_>.slice (systemd).
  expect(podDir.endsWith(`pod${c.uid}`) || podDir.endsWith(`pod${c.uid.replaceAll('-', '_')}.slice`)).toBe(
    true,
  );
  const containerDir = refused(() => layout.containerDir(podDir, c.container));
  expectUnder(containerDir, podDir);
  if (typeof containerDir === 'string') expect(posix.dirname(containerDir)).toBe(podDir);
  const file = refused(() => layout.file(typeof containerDir === 'string' ? containerDir : podDir, c.file));
  expectUnder(file, podDir);
}

describe('fuzz: cgroup paths', () => {
  it(
    `layout, safe-path: every path is refused or under its root (${settings.numRuns} cases)`,
    () => {
      fuzz(
        fc.property(caseArb, c => {
          checkLayout(c);
          const root = refused(() => assertAbsoluteRoot(c.root, 'root'));
          if (typeof root === 'string') {
            expect(posix.isAbsolute(root)).toBe(true);
            // resolveUnder takes a validated root (every caller passes one from assertAbsoluteRoot or the layout).
            expectUnder(
              refused(() => resolveUnder(root, ...c.parts)),
              root,
            );
          }
          const uidCheck = refused(() => assertPodUid(c.uid));
          if (!(uidCheck instanceof PathRefusedError))
            expect(c.uid).toMatch(
              /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
            );
          const plain = refused(() => assertPlainName(c.container, 'container'));
          if (!(plain instanceof PathRefusedError)) {
            expect(posix.basename(c.container)).toBe(c.container);
            expect(c.container.startsWith('.') || c.container.includes('\0')).toBe(false);
          }
          const segments = refused(() => splitRelativeDir(c.file, 'dir'));
          if (Array.isArray(segments))
            for (const s of segments as string[]) expect(() => assertPlainName(s, 'x')).not.toThrow();
        }),
        settings,
      );
    },
    settings.timeoutMs,
  );

  it(
    `listContainers enters only plain names and reports the rest (${listingSettings.numRuns} cases)`,
    async () => {
      const podDir = '/cg/cpu/kubepods/pod11111111-1111-4111-8111-111111111111';
      const layout = new CgroupLayout({ cgroupRoot: '/cg', version: 'v1', driver: 'cgroupfs' });
      // Directory entries a runtime (or a user with cgroup write access) could create: no '/' and no NUL.
      const entryArb = hostileString.filter(
        name =>
          name !== '' &&
          name !== '.' &&
          name !== '..' &&
          !name.includes('/') &&
          !name.includes('\0') &&
          name.length <= 4096,
      );
      await fuzzAsync(
        fc.asyncProperty(fc.uniqueArray(entryArb, { maxLength: 6 }), async names => {
          const fs = new MemoryFs();
          fs.mkdir(podDir);
          for (const name of names) fs.mkdir(`${podDir}/${name}`);
          const listing = await layout.listContainers(fs, podDir);
          expect([...listing.names, ...listing.refused].sort()).toEqual([...names].sort());
          for (const name of listing.names) expectUnder(layout.containerDir(podDir, name), podDir);
          for (const name of listing.refused)
            expect(name.startsWith('.') || name.includes('\\') || name.length > 255).toBe(true);
        }),
        listingSettings,
      );
    },
    listingSettings.timeoutMs,
  );
});
