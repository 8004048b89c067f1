"""The mutation matrix of assignment 4 (verifier): plausible wrong versions of each graded function,
one mistake each (the other assignments: mutants_<name>.py beside this file).

`python -m minireason.course mutants -a verifier` swaps each one in alone (in a scratch copy of the
tree) and runs its assignment's public tests (`pytest -x -m verifier tests/course`, hidden tests left
out): every mutant must make them fail, and the reference must pass. This file quotes the solutions,
so it is a hidden file: the student tree leaves it out.

Mutant(function, name, old, new): in the region of `function` ("path:qualified name"), the text `old`
(which occurs there exactly once) becomes `new`.
"""
M = Mutant  # noqa: F821  (given by the loader, minireason.course.load_mutants)

TRACES = "minireason/traces.py"
ARITH = "minireason/tasks/arith.py"

MUTANTS = [
    # ---- assignment 4: verifier
    M(f"{TRACES}:parse_step", "no digit limit on the value", 'if not m or len(m.group(3).lstrip("-")) > MAX_DIGITS:',
      "if not m:"),
    M(f"{TRACES}:parse_step", "the value's minus sign counted as a digit", 'len(m.group(3).lstrip("-"))',
      "len(m.group(3))"),
    M(f"{TRACES}:parse_step", "truth taken from the written value", "int(m.group(3)), truth,",
      "int(m.group(3)), int(m.group(3)),"),
    M(f"{TRACES}:parse_step", "the variable dropped", 'm.group(1) or ""', '""'),
    M(f"{TRACES}:parse_step", "E with too-long numbers kept (truth None)", "return None if truth is None else Step(",
      "return Step("),
    M(f"{TRACES}:Trace.reflects", "only checks count", "bool(self.checks or self.revisions)", "bool(self.checks)"),
    M(f"{TRACES}:Trace.reflects", "only revisions count", "bool(self.checks or self.revisions)",
      "bool(self.revisions)"),
    M(f"{TRACES}:Trace.reflects", "`and` for `or`", "self.checks or self.revisions", "self.checks and self.revisions"),
    M(f"{TRACES}:Trace.reflects", "read off the style (`other` never reflects)",
      "bool(self.checks or self.revisions)", 'self.style == "reflect"'),
    M(f"{TRACES}:Trace.reflects", "a list returned, not a bool", "bool(self.checks or self.revisions)",
      "self.checks or self.revisions"),
    M(f"{ARITH}:CountdownFamily.check_answer", "order ignored (the numbers as a multiset)", 'used != p["numbers"]',
      'sorted(used) != sorted(p["numbers"])'),
    M(f"{ARITH}:CountdownFamily.check_answer", "no leading-zero rule",
      ' or any(len(x) > 1 and x[0] == "0" for x in re.findall(r"[0-9]+", answer))', ""),
    M(f"{ARITH}:CountdownFamily.check_answer", "no leading-minus rule", ' or answer.startswith("-")', ""),
    M(f"{ARITH}:CountdownFamily.check_answer", "compared with the canonical answer",
      'return (value_of(answer) == p["target"]), ("" if value_of(answer) == p["target"] else "wrong value")',
      'return (answer == self.correct_answer(p)), ("" if answer == self.correct_answer(p) else "wrong value")'),
    M(f"{ARITH}:CountdownFamily.check_answer", "the target never checked", 'return (value_of(answer) == p["target"]),',
      "return True,"),
    M(f"{ARITH}:CountdownFamily.revision_fixed", "`missed` dropped (a wait mid-attempt fixes)",
      "return (missed and self.is_full_attempt", "return (self.is_full_attempt"),
    M(f"{ARITH}:CountdownFamily.revision_fixed", "only a miscomputed step counts as missed",
      ' or (before.expr.endswith((f"+{last}", f"-{last}")) and before.truth != p["target"])', ""),
    M(f"{ARITH}:CountdownFamily.revision_fixed", "no full-attempt rule", "self.is_full_attempt(p, after) and ", ""),
    M(f"{ARITH}:CountdownFamily.revision_fixed", "no all-correct rule", " and all(s.correct for s in after)", ""),
    M(f"{ARITH}:CountdownFamily.revision_fixed", "no target rule",
      '\n                and after[-1].truth == p["target"]', ""),
]
