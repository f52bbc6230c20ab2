// The skip-or-fail rule of the container tests: a missing tool is a printed skip, or an error under CI's
// NODEQOS_REQUIRE_CONTAINERS=1.
import { describe, expect, it } from 'vitest';
import { containerSkipReason } from './containers.ts';

describe('containerSkipReason', () => {
  const missing = 'nodeqos-no-such-tool';

  it('names the missing tool and how to install it', () => {
    expect(containerSkipReason([missing], {})).toBe(
      `${missing} not installed (apt-get install -y podman buildah runc)`,
    );
  });

  it('fails instead of skipping when NODEQOS_REQUIRE_CONTAINERS=1', () => {
    expect(() => containerSkipReason([missing], { NODEQOS_REQUIRE_CONTAINERS: '1' })).toThrow(
      /container tests required \(NODEQOS_REQUIRE_CONTAINERS=1\) but nodeqos-no-such-tool not installed/,
    );
  });

  it('finds a tool that is on PATH', () => {
    const reason = containerSkipReason(['node'], {});
    expect(reason ?? '').not.toContain('not installed');
  });
});
