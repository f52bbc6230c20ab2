// net_cls (cgroup v1 only): tags a pod's sockets with classid 0xAAAABBBB so the tc cgroup filter sends its egress
// packets to HTB class AAAA:BBBB. The classid is a knob of the net_cls mechanism (mechanisms/net-cls/), written by
// the executor only where a net_cls hierarchy is already mounted: the agent never mounts one (decision 0008).

export const netClsUnsupportedOnV2 =
  'unsupported on cgroup v2: there is no net_cls controller; classification needs iptables -m cgroup --path or a BPF ' +
  'program matching the cgroup id';
