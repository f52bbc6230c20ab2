-- Argo CD health check for nodeqos.io/NodeQoSPolicy.
-- Register it in argocd-cm as resource.customizations.health.nodeqos.io_NodeQoSPolicy (see argocd-cm.yaml).
-- Argo CD runs it without the string library (only base, table and a safe os), so it uses nothing else.
--   observedGeneration behind metadata.generation -> Progressing (the controller has not seen this spec yet)
--   Conflict=True                                 -> Degraded   (an equal-priority policy selects the same nodes)
--   Ready=True                                    -> Healthy
--   Ready=False                                   -> Degraded   (the controller saw this spec and cannot apply it)
--   no status, no Ready, Ready=Unknown            -> Progressing
local hs = {}

local function condition(conditions, wanted)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == wanted then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Policy is being deleted"
  return hs
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the nodeqos controller"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

local conflict = condition(obj.status.conditions, "Conflict")
if conflict ~= nil and conflict.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(conflict, "Conflicts with another policy")
  return hs
end

local ready = condition(obj.status.conditions, "Ready")
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Policy is in effect")
  return hs
end
hs.status = "Degraded"
hs.message = describe(ready, "Policy is not in effect")
return hs
