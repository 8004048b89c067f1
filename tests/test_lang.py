"""The tiny language: programs by hand, agreement with an independent reference on generated programs,
and 10,000 random and hostile programs that each end in a structured verdict within the step budget."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minireason.lang import STATUSES, Limits, run


@pytest.mark.parametrize("source, output", [
    ("print 1+2*3", [7]),
    ("print (1+2)*3", [9]),
    ("print 7/2; print -7/2; print 7%3; print -7%3", [3, -4, 1, 2]),      # floor division, as documented
    ("print 2-3-4", [-5]),                                                 # left to right
    ("print 1<2; print 2<=1; print 3==3; print 3!=3", [1, 0, 1, 0]),
    ("x=3; s=0; while x>0 {s=s+x; x=x-1}; print s", [6]),
    ("x=5; if x>3 {print 1} else {print 0}; if x>9 {print 2}", [1]),
    ("n=0; repeat 4 {n=n+2}; print n", [8]),
    ("repeat 2 {repeat 3 {print 1}}", [1] * 6),
    ("x=--3; print x", [3]),
    ("if 1 {}", []),
    ("  print   1  ;print 2 ", [1, 2]),
])
def test_programs_by_hand(source, output):
    r = run(source)
    assert (r.status, r.output) == ("ok", output), r.message


@pytest.mark.parametrize("source, status", [
    ("while 1 {}", "step_limit"),
    ("x=1; while x>0 {x=x+1}", "step_limit"),
    ("x=2; while 1 {x=x*x}", "size_limit"),                 # exponential growth
    ("print 1" + "0" * 40, "size_limit"),                   # a huge literal
    ("repeat 999999999999 {}", "step_limit"),
    ("repeat 100 {print 1}", "size_limit"),                 # too much output
    ("x=" + "(" * 50 + "1" + ")" * 50, "syntax_error"),     # nested too deep
    ("if 1 " + "{if 1 " * 30 + "{}" + "}" * 30, "syntax_error"),
    ("print " + "-" * 200 + "1", "syntax_error"),
    ("print 1" * 500, "syntax_error"),                      # too long
    ("print y", "runtime_error"),
    ("print 1/0", "runtime_error"),
    ("print 1%0", "runtime_error"),
    ("repeat -1 {}", "runtime_error"),
    ("x = 1 +", "syntax_error"),
    ("{ print 1", "syntax_error"),
    ("print 1 }", "syntax_error"),
    ("import os", "syntax_error"),
    ("__import__('os').system('ls')", "syntax_error"),
    ("print 1; exec(\"x\")", "syntax_error"),
    ("\x00\xff\ufeff", "syntax_error"),
    ("", "syntax_error"),
])
def test_hostile_and_broken_programs_get_their_verdict(source, status):
    r = run(source)
    assert r.status == status, (r.status, r.message)
    assert r.steps <= Limits().max_steps + 1


# ----------------------------------------------------------------------------- an independent reference
#
# The generator builds each program twice: as text for the interpreter, and as Python functions that
# compute the same thing directly on a dict of variables (no parsing, no eval). Agreement of the two
# on thousands of programs tests the parser and the interpreter together.

def _expr(rng, names, depth=0):
    """(text, fn(env) -> int) for a random expression over defined names."""
    if depth > 2 or rng.random() < 0.35:
        if names and rng.random() < 0.5:
            n = rng.choice(names)
            return n, lambda env, n=n: env[n]
        k = rng.randint(0, 20)
        return str(k), lambda env, k=k: k
    op = rng.choice(["+", "-", "*", "/", "%", "<", "==", ">="])
    (lt, lf), (rt, rf) = _expr(rng, names, depth + 1), _expr(rng, names, depth + 1)
    if op in ("/", "%"):                               # keep the divisor positive: 1 + |x| % 5
        rt, rf = f"(1+({rt})*({rt})%5)", (lambda env, rf=rf: 1 + rf(env) * rf(env) % 5)
    fn = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a // b, "%": lambda a, b: a % b, "<": lambda a, b: int(a < b),
          "==": lambda a, b: int(a == b), ">=": lambda a, b: int(a >= b)}[op]
    return f"({lt}){op}({rt})", lambda env: fn(lf(env), rf(env))


def _program(rng, names=None, depth=0):
    """(text, fn(env, out)) for a random program of assignments, prints, if/else and repeat loops."""
    names = list(names or [])
    parts = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["set", "set", "print", "if", "repeat"] if depth < 2 else ["set", "print"])
        if kind == "set" or not names:
            name = rng.choice("abcxy")
            text, fn = _expr(rng, names)
            parts.append((f"{name}={text}", lambda env, out, name=name, fn=fn: env.__setitem__(name, fn(env))))
            names.append(name)
        elif kind == "print":
            text, fn = _expr(rng, names)
            parts.append((f"print {text}", lambda env, out, fn=fn: out.append(fn(env))))
        elif kind == "if":
            (ct, cf), (tt, tf), (et, ef) = _expr(rng, names), _program(rng, names, depth + 1), \
                _program(rng, names, depth + 1)
            parts.append((f"if {ct} {{{tt}}} else {{{et}}}",
                          lambda env, out, cf=cf, tf=tf, ef=ef: (tf if cf(env) else ef)(env, out)))
        else:
            k = rng.randint(0, 3)
            bt, bf = _program(rng, names, depth + 1)
            parts.append((f"repeat {k} {{{bt}}}", lambda env, out, k=k, bf=bf: [bf(env, out) for _ in range(k)]))
    return "; ".join(p[0] for p in parts), lambda env, out: [p[1](env, out) for p in parts]


def test_interpreter_agrees_with_the_reference_on_generated_programs():
    rng, agreed = random.Random(0), 0
    big = Limits(max_steps=100_000, max_digits=40, max_output=1000, max_length=100_000)
    for _ in range(3000):
        text, fn = _program(rng)
        env, out = {}, []
        fn(env, out)
        r = run(text, big)
        assert (r.status, r.output) == ("ok", out), (text, r.status, r.message)
        agreed += 1
    assert agreed == 3000


# ----------------------------------------------------------------------------- 10,000 hostile programs

PIECES = ["x", "y", "=", "1", "0", "9" * 15, "-", "+", "*", "/", "%", "(", ")", "{", "}", ";", " ", "print ",
          "if ", "else ", "while ", "repeat ", "<", "==", "x=x*x;", "while 1 {", "repeat 99999 {", "\x00", "é",
          "__import__", "eval(", "\n"]
programs = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(PIECES), max_size=80).map("".join))


@settings(max_examples=10_000, deadline=None)
@given(programs)
def test_no_program_escapes_the_sandbox(source):
    limits = Limits()
    r = run(source, limits)
    assert r.status in STATUSES
    assert r.steps <= limits.max_steps + 1 and len(r.output) <= limits.max_output
    assert all(abs(v) < 10 ** limits.max_digits for v in r.output)
