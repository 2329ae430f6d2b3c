"""The graph of kernels that multi-output fusion merges, kept current as kernels merge.

Nodes are kernels being planned and the unfused instructions between them; an edge runs from a
producer to a consumer. The nodes are held in a topological order, so a path from one node to
another can only pass through nodes between them in that order: the cycle check of a merge
searches that interval only (XLA bounds its reachability queries the same way), forward from one
end and backward from the other in turn, so it costs the smaller of the two closures. Merging two
nodes contracts them in place and repairs the order inside the interval, so the graph is never
rebuilt."""
from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

N = TypeVar("N", bound=Hashable)


class OrderedDag(Generic[N]):
    """A DAG under node contraction, with a topological position per node."""

    def __init__(self, nodes: Iterable[N], edges: dict[N, set[N]], priority: dict[N, int]):
        self.succ: dict[N, set[N]] = {n: set() for n in nodes}
        self.pred: dict[N, set[N]] = {n: set() for n in self.succ}
        for m, ns in edges.items():
            for n in ns:
                self.succ.setdefault(m, set()).add(n)
                self.pred.setdefault(n, set()).add(m)
                self.succ.setdefault(n, set())
                self.pred.setdefault(m, set())
        # Kahn's order, ties broken by `priority` (program order): nodes of independent parts of
        # the program stay apart, which keeps the intervals searched short.
        indeg = {n: len(p) for n, p in self.pred.items()}
        ready = [(priority[n], n) for n, d in indeg.items() if d == 0]
        heapq.heapify(ready)
        self.seq: list[N | None] = []
        while ready:
            _, n = heapq.heappop(ready)
            self.seq.append(n)
            for s in self.succ[n]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    heapq.heappush(ready, (priority[s], s))
        if len(self.seq) != len(self.succ):
            raise ValueError("the kernel graph has a cycle")
        self.pos: dict[N, int] = {n: k for k, n in enumerate(self.seq) if n is not None}
        self.searched = 0  # nodes visited by path searches (the tests read it: it must stay near-linear)

    def _closures(self, src: N, dst: N, stop_on_meeting: bool) -> tuple[bool, set[N], bool]:
        """Searches forward from src and backward from dst at once, inside the interval between
        them, one node per side in turn. Returns (the searches met, the closure completed first,
        whether it is the backward one). Running both in turn bounds the work by the smaller
        closure: a node of one program part merged with a node of a distant part searches its
        own part, not everything in between."""
        lo, hi = self.pos[src], self.pos[dst]
        fwd = {n for n in self.succ[src] if self.pos[n] < hi and n != dst}
        bwd = {n for n in self.pred[dst] if self.pos[n] > lo and n != src}
        if stop_on_meeting and fwd & bwd:
            return True, set(), False
        stacks = (list(fwd), list(bwd))
        seen = (fwd, bwd)
        links = (self.succ, self.pred)
        side = 0
        while True:
            if not stacks[side]:
                return False, seen[side], side == 1
            n = stacks[side].pop()
            self.searched += 1
            other = seen[1 - side]
            for m in links[side][n]:
                if m not in seen[side] and lo < self.pos[m] < hi:
                    if stop_on_meeting and m in other:
                        return True, set(), False
                    seen[side].add(m)
                    stacks[side].append(m)
            side = 1 - side

    def path_through_third(self, src: N, dst: N) -> bool:
        """Is there a path src -> ... -> dst of length >= 2? Every node on it lies between the two
        in the topological order, and is reached from src and reaches dst."""
        if self.pos[src] >= self.pos[dst]:
            return False
        return self._closures(src, dst, True)[0]

    def contract(self, a: N, b: N) -> None:
        """b absorbs a. Neither reaches the other through a third node (the caller checked), so
        the nodes between them split into those the earlier one reaches, F, and the rest, or into
        those that reach the later one, B, and the rest: the order [rest, merged, F] or
        [B, merged, rest] keeps every edge pointing forward."""
        lo, hi = sorted((self.pos[a], self.pos[b]))
        first, second = (a, b) if self.pos[a] == lo else (b, a)
        _, closure, backward = self._closures(first, second, False)
        between = [n for n in self.seq[lo + 1:hi] if n is not None]
        if backward:
            new: list[N | None] = [n for n in between if n in closure]
            new.append(b)
            new.extend(n for n in between if n not in closure)
        else:
            new = [n for n in between if n not in closure]
            new.append(b)
            new.extend(n for n in between if n in closure)
        new += [None] * (hi - lo + 1 - len(new))  # slots keep their places: later positions stay valid
        self.seq[lo:hi + 1] = new
        for k, slot in enumerate(new, lo):
            if slot is not None:
                self.pos[slot] = k
        del self.pos[a]
        for p in self.pred.pop(a):
            self.succ[p].discard(a)
            if p != b:
                self.succ[p].add(b)
                self.pred[b].add(p)
        for s in self.succ.pop(a):
            self.pred[s].discard(a)
            if s != b:
                self.pred[s].add(b)
                self.succ[b].add(s)

    def edges(self) -> dict[N, set[N]]:
        """Producer -> consumers, without nodes that have none."""
        return {m: set(ns) for m, ns in self.succ.items() if ns}
