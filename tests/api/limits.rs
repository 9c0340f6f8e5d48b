//! Document limits: depth, cost, aliases, root fields, directives and tokens,
//! each answered just under the limit and refused just over it.
