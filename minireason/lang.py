"""A tiny programming language for the code tasks, and its sandboxed interpreter.

Model-written programs run here and nowhere else: Python's eval/exec/compile never see them. The
grammar is small enough for a tiny model and big enough to need several steps of reasoning:

    program   := stmt (';' stmt)*
    stmt      := NAME '=' expr | 'print' expr
               | 'if' expr block ['else' block] | 'while' expr block | 'repeat' expr block
    block     := '{' [stmt (';' stmt)*] '}'
    expr      := sum [('<' | '>' | '<=' | '>=' | '==' | '!=') sum]        comparisons give 1 or 0
    sum       := term (('+' | '-') term)*
    term      := unary (('*' | '/' | '%') unary)*                         '/' and '%' floor, as in Python
    unary     := '-' unary | NUMBER | NAME | '(' expr ')'

Example: `x=3; s=0; while x>0 {s=s+x; x=x-1}; print s` prints `6`.

The sandbox. `run(source, limits)` never raises: it returns a `Result` whose `status` is one of
    ok             the program ran to the end; `output` holds what it printed
    syntax_error   it does not parse (or is longer / nests deeper than the limits allow)
    runtime_error  an undefined variable, a division by zero, a negative repeat count
    step_limit     it ran more than `max_steps` steps (each statement and each operator is a step)
    size_limit     a value grew past `max_digits` digits, or the output past `max_output` lines
Every limit is checked before the work it guards, so a hostile program (an infinite loop, `x=x*x` in
a loop, a thousand-digit literal, deep nesting, garbage bytes) ends within the budget.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field

STATUSES = ("ok", "syntax_error", "runtime_error", "step_limit", "size_limit")


@dataclass(frozen=True)
class Limits:
    """The sandbox's budget for one program."""
    max_steps: int = 2000       # statements executed + operators evaluated
    max_digits: int = 12        # largest |value| has this many digits (literals included)
    max_output: int = 16        # printed lines
    max_depth: int = 12         # nesting of blocks and parentheses
    max_length: int = 400       # characters of source


@dataclass
class Result:
    status: str
    output: list[int] = field(default_factory=list)
    steps: int = 0
    message: str = ""


class _Stop(Exception):
    """Ends a run early with a status (raised inside the interpreter, caught by run())."""
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# ----------------------------------------------------------------------------- lexer and parser

_TOKEN = re.compile(r"\s*(?:(\d+)|([a-z_][a-z_0-9]*)|(<=|>=|==|!=|[-+*/%<>=;(){}]))", re.ASCII)
KEYWORDS = {"print", "if", "else", "while", "repeat"}
COMPARISONS = {"<", ">", "<=", ">=", "==", "!="}
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv, "%": operator.mod,
             **{c: (lambda f: lambda a, b: int(f(a, b)))(f) for c, f in
                (("<", operator.lt), (">", operator.gt), ("<=", operator.le), (">=", operator.ge),
                 ("==", operator.eq), ("!=", operator.ne))}}


def tokenize(source: str, limits: Limits) -> list[tuple[str, str]]:
    """Source -> [(kind, text)] with kind 'num', 'name', 'kw' or 'op'; _Stop on anything else."""
    if len(source) > limits.max_length:
        raise _Stop("syntax_error", f"program longer than {limits.max_length} characters")
    tokens, pos = [], 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TOKEN.match(source, pos)
        if not m:
            raise _Stop("syntax_error", f"unexpected character at {pos}")
        num, name, op = m.groups()
        if num is not None:
            if len(num.lstrip("0")) > limits.max_digits:
                raise _Stop("size_limit", "a literal has too many digits")
            tokens.append(("num", num))
        elif name is not None:
            tokens.append(("kw" if name in KEYWORDS else "name", name))
        else:
            tokens.append(("op", op))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over the grammar above; the depth limit keeps Python's recursion shallow."""

    def __init__(self, tokens, limits: Limits):
        self.tokens, self.i, self.limits, self.depth = tokens, 0, limits, 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, text=None, kind=None):
        tok = self.peek()
        if (text is not None and tok[1] != text) or (kind is not None and tok[0] != kind) or tok[0] == "end":
            raise _Stop("syntax_error", f"expected {text or kind}, found {tok[1] or 'the end'!r}")
        self.i += 1
        return tok

    def nest(self):
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise _Stop("syntax_error", f"nested deeper than {self.limits.max_depth}")

    def program(self):
        body = self.statements()
        if self.peek()[0] != "end":
            raise _Stop("syntax_error", f"unexpected {self.peek()[1]!r}")
        return body

    def statements(self):
        body = [self.statement()]
        while self.peek() == ("op", ";"):
            self.take(";")
            body.append(self.statement())
        return body

    def block(self):
        self.take("{")
        self.nest()
        body = [] if self.peek() == ("op", "}") else self.statements()
        self.depth -= 1
        self.take("}")
        return body

    def statement(self):
        kind, text = self.peek()
        if kind == "name":
            self.take()
            self.take("=")
            return ("set", text, self.expr())
        if text == "print":
            self.take()
            return ("print", self.expr())
        if text == "if":
            self.take()
            cond, then = self.expr(), self.block()
            other = []
            if self.peek() == ("kw", "else"):
                self.take()
                other = self.block()
            return ("if", cond, then, other)
        if text in ("while", "repeat"):
            self.take()
            return (text, self.expr(), self.block())
        raise _Stop("syntax_error", f"a statement cannot start with {text or 'the end'!r}")

    def expr(self):
        left = self.sum()
        if self.peek()[1] in COMPARISONS and self.peek()[0] == "op":
            op = self.take()[1]
            return ("op", op, left, self.sum())
        return left

    def sum(self):
        left = self.term()
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            op = self.take()[1]
            left = ("op", op, left, self.term())
        return left

    def term(self):
        left = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "%"):
            op = self.take()[1]
            left = ("op", op, left, self.unary())
        return left

    def unary(self):
        kind, text = self.peek()
        if text == "-" and kind == "op":
            self.take()
            self.nest()
            node = ("neg", self.unary())
            self.depth -= 1
            return node
        if kind == "num":
            self.take()
            return ("num", int(text))
        if kind == "name":
            self.take()
            return ("var", text)
        if text == "(":
            self.take()
            self.nest()
            node = self.expr()
            self.depth -= 1
            self.take(")")
            return node
        raise _Stop("syntax_error", f"expected a value, found {text or 'the end'!r}")


def parse(source: str, limits: Limits = Limits()):
    """Source -> list of statement tuples; raises _Stop (use run() for a verdict instead)."""
    return _Parser(tokenize(source, limits), limits).program()


# ----------------------------------------------------------------------------- the interpreter

class _Machine:
    def __init__(self, limits: Limits):
        self.limits, self.env, self.output, self.steps = limits, {}, [], 0
        self.bound = 10 ** limits.max_digits

    def step(self):
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise _Stop("step_limit", f"more than {self.limits.max_steps} steps")

    def bounded(self, v: int) -> int:
        if abs(v) >= self.bound:
            raise _Stop("size_limit", f"a value has more than {self.limits.max_digits} digits")
        return v

    def run(self, body):
        for stmt in body:
            self.step()
            kind = stmt[0]
            if kind == "set":
                self.env[stmt[1]] = self.value(stmt[2])
            elif kind == "print":
                if len(self.output) >= self.limits.max_output:
                    raise _Stop("size_limit", f"more than {self.limits.max_output} lines of output")
                self.output.append(self.value(stmt[1]))
            elif kind == "if":
                self.run(stmt[2] if self.value(stmt[1]) else stmt[3])
            elif kind == "while":
                while self.value(stmt[1]):
                    self.run(stmt[2])
                    self.step()
            else:                                                   # repeat n { ... }
                n = self.value(stmt[1])
                if n < 0:
                    raise _Stop("runtime_error", "repeat count is negative")
                for _ in range(n):
                    self.run(stmt[2])
                    self.step()

    def value(self, node) -> int:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            if node[1] not in self.env:
                raise _Stop("runtime_error", f"{node[1]} is not defined")
            return self.env[node[1]]
        self.step()
        if kind == "neg":
            return -self.value(node[1])
        _, op, left, right = node
        a, b = self.value(left), self.value(right)
        if op in ("/", "%") and b == 0:
            raise _Stop("runtime_error", "division by zero")
        return self.bounded(OPERATORS[op](a, b))      # |a|, |b| < 10^max_digits: cheap even for a * b


def run(source, limits: Limits = Limits(), inputs: dict[str, int] | None = None) -> Result:
    """Parse and run `source` in the sandbox; always returns a Result, never raises.

    `inputs` sets variables before the first statement (the write tasks' test inputs, e.g. {"n": 4})."""
    if not isinstance(source, str):
        return Result("syntax_error", message="the program is not text")
    machine = _Machine(limits)
    machine.env.update(inputs or {})
    try:
        machine.run(parse(source, limits))
    except _Stop as stop:
        return Result(stop.status, machine.output, machine.steps, stop.message)
    return Result("ok", machine.output, machine.steps)
