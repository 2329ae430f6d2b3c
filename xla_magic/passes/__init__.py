"""Module -> Module rewrites, the pipeline that runs them, and the analyses after them
(fusion plan, buffer assignment, cost)."""
