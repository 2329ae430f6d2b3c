"""The graph of kernels that multi-output fusion merges, kept current as kernels merge.

Nodes are kernels being planned and the unfused instructions between them; an edge runs from a
producer to a consumer. The nodes are held in a topological order, so a path from one node to
another can only pass through nodes between them in that order: the cycle check of a merge
searches that interval, not the whole graph (XLA bounds its reachability queries the same way).
Merging two nodes contracts them in place and repairs the order locally, so the graph is never
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

    def path_through_third(self, src: N, dst: N) -> bool:
        """Is there a path src -> ... -> dst of length >= 2? Every node on it lies between the two
        in the topological order."""
        limit = self.pos[dst]
        if self.pos[src] >= limit:
            return False
        stack = [n for n in self.succ[src] if n != dst and self.pos[n] < limit]
        seen = set(stack)
        while stack:
            n = stack.pop()
            self.searched += 1
            for m in self.succ[n]:
                if m == dst:
                    return True
                if m not in seen and self.pos[m] < limit:
                    seen.add(m)
                    stack.append(m)
        return False

    def contract(self, a: N, b: N) -> None:
        """b absorbs a. Neither reaches the other through a third node (the caller checked), so
        the nodes between them split into those the earlier one reaches, R, and the rest: the
        order [rest, merged, R] keeps every edge pointing forward."""
        lo, hi = sorted((self.pos[a], self.pos[b]))
        first = a if self.pos[a] == lo else b
        between = [n for n in self.seq[lo + 1:hi] if n is not None]
        stack = [s for s in self.succ[first] if self.pos[s] < hi]
        reached = set(stack)
        while stack:
            n = stack.pop()
            self.searched += 1
            for m in self.succ[n]:
                if m not in reached and self.pos[m] < hi:
                    reached.add(m)
                    stack.append(m)
        new: list[N | None] = [n for n in between if n not in reached]
        new.append(b)
        new.extend(n for n in between if n in reached)
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
