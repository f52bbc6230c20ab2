// POST /apis/authentication.k8s.io/v1/selfsubjectreviews (what `kubectl auth whoami` sends): the server's view of
// the requesting user, nothing stored.
import type { UserInfo } from '../authn/user-info.ts';
import { userInfoJson } from '../authn/user-info.ts';
import type { Reply } from '../http-io.ts';
import { time, type ServerContext } from '../write-pipeline.ts';

export function handleSelfSubjectReview(ctx: ServerContext, user: UserInfo): Reply {
  return {
    status: 201,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: time(ctx.now) },
      status: { userInfo: userInfoJson(user) },
    },
    warnings: [],
  };
}
