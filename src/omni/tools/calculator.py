"""The built-in ``calculate`` tool: exact arithmetic and unit conversion, so that "What is 37 times 43?" is 1591 and
not the model's guess at it, and "5 miles in kilometres" is 8.05.

One tool with one string argument, for both: a 1.5B model fills one free-text field reliably and writes
``37*43`` or ``5 miles to km`` the way the description's examples do; a second tool would add its schema to every
prompt. Arithmetic is evaluated by ``simpleeval`` (a safe evaluator: no names, attributes or calls beyond the ones
given) on exact fractions, so ``0.1 + 0.2`` is 0.3 and ``10/4`` is 2.5; conversions go through ``pint``'s unit
registry (temperatures, lengths, weights, volumes, speeds and anything else it knows). Results are rounded for
speech (:func:`speakable`), with the exact value beside them when rounding changed it.

Nothing here may hold the event loop: the tool runs in a worker thread (:class:`omni.session.tools.ToolBox`), but a
huge integer power would hold the GIL for seconds, so powers whose result would pass :data:`MAX_DIGITS` digits are
refused before they are computed, and expressions are at most :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import ast
import math
import re
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Any

from simpleeval import SimpleEval  # type: ignore[import-untyped]  # it ships no type hints

from omni.session.tools import FunctionTool
from omni.types import Tool

TOOL = Tool(
    "calculate",
    "Exact arithmetic or unit conversion the user asks for. Examples: '37*43', '(12.5+7)/3', '15% of 80', "
    "'5 miles to km', '70 F to C'.",
    {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
)

CUES = {
    "en": re.compile(r"\d|\b(plus|minus|times|multipl\w*|divid\w*|percent|squared?|root|sum|convert\w*|calculat\w*|"
                     r"miles?|kilomet\w*|km|met(er|re)s?|feet|foot|inch(es)?|pounds?|kilos?|kilograms?|grams?|"
                     r"ounces?|lit(er|re)s?|gallons?|fahrenheit|celsius|half|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"(thir|four|fif|six|seven|eigh|nine)teen|(twen|thir|for|fif|six|seven|eigh|nine)ty|"
                     r"hundred|thousand|million|billion)\b", re.IGNORECASE),
    "ko": re.compile(r"\d|더하|빼기|빼면|곱하|나누|퍼센트|프로|제곱|루트|계산|환산|변환|몇\s*배|킬로|마일|미터|센티|"
                     r"인치|피트|파운드|그램|리터|섭씨|화씨|하나|둘|셋|넷|다섯|여섯|일곱|여덟|아홉|스물|서른|마흔|"
                     r"[일이삼사오육칠팔구]?[십백천만]"),
}
"""What a request for arithmetic or a conversion has one of (:attr:`FunctionTool.cues`): a number, or a word for one
or for an operation or a unit. Not "how many": "How many legs does a spider have?" is no sum."""

TRIGGERS = {
    "en": re.compile(r"\d\s*(times|plus|minus|divided by|multiplied by|over|x|[*/+^×÷-])\s*\d|\d\s*(%|percent) of|"
                     r"\bconvert\b|\b(square root|cube root) of\b|\bhow many (kilomet|miles|met|feet|inch|pound|"
                     r"kilo|gram|ounce|lit|gallon|cup)\w* (is|are|in)\b", re.IGNORECASE),
    "ko": re.compile(r"\d\s*(곱하기|나누기|더하기|빼기|[*/+×÷-])\s*\d|퍼센트|\d\s*프로|제곱근|루트|"
                     r"\d\s*(마일|킬로미터|킬로|미터|센티미터|인치|피트|파운드|킬로그램|그램|리터|화씨|섭씨)\S*\s*(은|는)?\s*몇"),
}
"""Requests that are for the calculator and nothing else (:attr:`FunctionTool.triggers`): arithmetic on numbers and
conversions; the model's own product of 37 and 43 is 1621."""

MAX_LENGTH = 200
MAX_DIGITS = 1000
"""The largest power computed, in decimal digits of its result (a 1000-digit power takes microseconds)."""
EXACT_DIGITS = 15
"""Integers up to this many digits are said in full; longer ones in scientific notation."""

Number = Fraction | float


class CalculationError(ValueError):
    """An expression that cannot be worked out; the message is what the model can tell the user."""


# ---- numbers for speech ----------------------------------------------------------------------------------------

def speakable(value: Number) -> str:
    """A number as it is said: integers whole (``1591``); a decimal that ends within six places in full
    (``0.125``); otherwise two decimals from 1 up (``3.33``), three significant digits below (``0.0333``);
    integers of more than :data:`EXACT_DIGITS` digits and tiny values in scientific notation."""
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculationError("the result is not a finite number")
    exact = Fraction(value)
    if exact.denominator == 1:
        digits = len(str(abs(exact.numerator)))
        return str(exact.numerator) if digits <= EXACT_DIGITS else f"{float(exact):.4g}"
    if abs(exact) >= 10**EXACT_DIGITS:
        return f"{float(exact):.4g}"
    for places in range(1, 7):
        scaled = exact * 10**places
        if scaled.denominator == 1:
            return f"{float(exact):.{places}f}"
    if abs(exact) >= 1:
        text = f"{float(exact):.2f}"
    elif abs(exact) >= Fraction(1, 10**6):
        text = format(Decimal(f"{float(exact):.3g}"), "f")  # 0.0333, not 3.33e-02
    else:
        return f"{float(exact):.3g}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _exact(value: Number) -> str | None:
    """The exact value, for when :func:`speakable` rounds it: a fraction worth saying (10/3), a long integer in full
    (up to 40 digits)."""
    if isinstance(value, float) or value.denominator > 1000:
        return None
    if value.denominator == 1:
        return str(value.numerator) if len(str(value.numerator)) <= 40 else None
    return f"{value.numerator}/{value.denominator}"


# ---- arithmetic -------------------------------------------------------------------------------------------------

def _digits(value: Number) -> float:
    """About how many decimal digits ``value``'s integer part or denominator has."""
    exact = Fraction(value)
    return max(math.log10(abs(exact.numerator) + 1), math.log10(exact.denominator + 1))


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(exponent, Fraction) and exponent.denominator == 1:
        if abs(exponent) * max(_digits(base), 1) > MAX_DIGITS:
            raise CalculationError(f"the result would have more than {MAX_DIGITS} digits")
        if base == 0 and exponent < 0:
            raise CalculationError("zero cannot be raised to a negative power")
        return Fraction(base) ** int(exponent)
    result: object = float(base) ** float(exponent)  # a negative base to a fractional power is complex
    if not isinstance(result, float):
        raise CalculationError("the result is not a real number")
    return result


def _sqrt(value: Number) -> Number:
    if value < 0:
        raise CalculationError("a negative number has no real square root")
    exact = Fraction(value)
    root_n, root_d = math.isqrt(exact.numerator), math.isqrt(exact.denominator)
    if root_n * root_n == exact.numerator and root_d * root_d == exact.denominator:
        return Fraction(root_n, root_d)  # sqrt(2.25) is 1.5 exactly
    return math.sqrt(exact)


def _round(value: Number, places: Number = 0) -> Number:
    return Fraction(round(Fraction(value), int(places)))


_FUNCTIONS: dict[str, Any] = {
    "sqrt": _sqrt, "abs": abs, "round": _round, "min": min, "max": max,
    "floor": lambda x: Fraction(math.floor(x)), "ceil": lambda x: Fraction(math.ceil(x)),
    "ln": lambda x: math.log(x), "log10": lambda x: math.log10(x), "log": lambda x: math.log10(x),
}
_NAMES: dict[str, Any] = {"pi": math.pi, "e": math.e}


class _ExactEval(SimpleEval):  # type: ignore[misc]  # its base is untyped
    """simpleeval on fractions: every number literal is a :class:`Fraction` of the digits written."""

    def __init__(self) -> None:
        super().__init__(functions=_FUNCTIONS, names=_NAMES)
        self.operators[ast.Pow] = _power
        self.operators[ast.BitXor] = _power  # "2^10" is a power in speech, never an exclusive or
        self.operators[ast.Div] = lambda a, b: Fraction(a) / Fraction(b) if not isinstance(a, float) and not \
            isinstance(b, float) else a / b
        self.nodes[ast.Constant] = self._constant

    @staticmethod
    def _constant(node: ast.Constant) -> Number:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculationError("only numbers can be calculated")
        return Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*of\s+", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%(?!\s*[\d(])")
_TIMES_X = re.compile(r"(?<=[\d)])\s*x\s*(?=[\d(.])", re.IGNORECASE)
_WORDS = {"×": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "raised to the power of": "**",
          "to the power of": "**", "percent": "%", "plus": "+", "minus": "-", "times": "*", "divided by": "/",
          "over": "/", "multiplied by": "*", "squared": "**2", "cubed": "**3"}


def _spelled(expression: str) -> str:
    """Operators written as words or typographic signs, as symbols: "2 to the power of 10" → "2 ** 10"."""
    text = expression
    for word, symbol in _WORDS.items():
        pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word[0].isalpha() else re.escape(word)
        text = re.sub(pattern, symbol, text, flags=re.IGNORECASE)
    return text


def _arithmetic(expression: str) -> str:
    """The expression in Python syntax: ``15% of 80`` → ``15/100*80``, ``37 x 43`` → ``37*43``, ``1,000`` → 1000."""
    text = _THOUSANDS.sub("", _spelled(expression).strip().rstrip("=?").strip())
    text = _PERCENT_OF.sub(r"(\1/100)*", text)
    text = _PERCENT.sub(r"(\1/100)", text)  # "17 % 5" stays a remainder
    return _TIMES_X.sub("*", text)


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression, exact where it can be. Raises :class:`CalculationError`."""
    try:
        value: object = _ExactEval().eval(_arithmetic(expression))
    except CalculationError:
        raise
    except ZeroDivisionError as exc:
        raise CalculationError("division by zero") from exc
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise CalculationError(f"cannot calculate {expression!r}: {exc}") from exc
    except Exception as exc:  # a syntax error, or simpleeval's refusals: names, attributes, calls it was not given
        # "invalid expression": the session's correction round (omni.session.tools.argument_error) asks the model
        # for the call again, written as arithmetic.
        raise CalculationError(f"invalid expression {expression!r}: write it with numbers and + - * / ** ( )") \
            from exc
    if isinstance(value, bool) or not isinstance(value, Fraction | float | int):
        raise CalculationError(f"{expression!r} is not a number")
    return Fraction(value) if isinstance(value, int) else value


# ---- unit conversion --------------------------------------------------------------------------------------------

_CONVERSION = re.compile(r"^(?P<amount>.+?)\s+(?:to|in|into|as|->|→|=)\s+(?P<target>[^\d].*)$", re.IGNORECASE)
_AMOUNT = re.compile(r"^(?P<number>[-+]?[\d.,/ ()*+\-]*\d[\d.)]*)\s*(?P<unit>\D.*)$")
_UNIT_WORDS = {
    # Units pint reads otherwise or not at all: a bare C or F is a temperature in speech, never coulomb or farad;
    # Korean unit names, for a Korean question whose arguments the model writes in Korean.
    "c": "degC", "f": "degF", "°c": "degC", "°f": "degF", "℃": "degC", "℉": "degF", "celsius": "degC",
    "fahrenheit": "degF", "degrees celsius": "degC", "degrees fahrenheit": "degF", "degree celsius": "degC",
    "degree fahrenheit": "degF", "degrees c": "degC", "degrees f": "degF", "섭씨": "degC", "화씨": "degF",
    "킬로미터": "km", "미터": "m", "센티미터": "cm", "밀리미터": "mm", "마일": "mile", "피트": "foot", "인치": "inch",
    "야드": "yard", "킬로그램": "kg", "그램": "g", "파운드": "lb", "온스": "oz", "리터": "L", "밀리리터": "mL",
    "갤런": "gallon", "컵": "cup", "시속 킬로미터": "km/h",
}

_registry_lock = threading.Lock()
_registry: Any = None


def _units() -> Any:
    """pint's registry, built once (0.2 s) on the first conversion, in the tool's worker thread."""
    global _registry
    with _registry_lock:
        if _registry is None:
            import pint

            _registry = pint.UnitRegistry(cache_folder=None)
        return _registry


def _unit_name(text: str) -> str:
    cleaned = " ".join(text.strip().rstrip(".?").split())
    return _UNIT_WORDS.get(cleaned.casefold(), cleaned)


def unit_words(unit: Any, amount: Number) -> str:
    """A pint unit as said: ``kilometer / hour`` → "kilometers per hour", ``degree_Celsius`` → "degrees Celsius"."""
    text = str(unit).replace("_", " ")
    if text.startswith("degree "):
        text = "degree " + text.split(" ", 1)[1].capitalize()
    parts = text.split(" / ")
    first = parts[0].split(" ")
    if Fraction(amount) != 1 and not first[0].endswith("s"):
        first[0] = {"foot": "feet", "inch": "inches", "century": "centuries"}.get(first[0], first[0] + "s")
    parts[0] = " ".join(first)
    return " per ".join(parts)


def convert(amount: str, target: str) -> dict[str, object]:
    """``amount`` ("5 miles", "70 F") in the ``target`` unit. Raises :class:`CalculationError`."""
    import pint

    found = _AMOUNT.match(amount.strip())
    if found is None:
        raise CalculationError(f"cannot read an amount and a unit in {amount!r}")
    number = evaluate(found["number"])
    units = _units()
    try:
        quantity = units.Quantity(float(number), _unit_name(found["unit"]))
        result = quantity.to(_unit_name(target))
    except pint.errors.DimensionalityError as exc:
        raise CalculationError(f"cannot convert {exc.units1} to {exc.units2}") from exc
    except (pint.errors.UndefinedUnitError, AttributeError, ValueError, AssertionError) as exc:
        raise CalculationError(f"unknown unit in {amount!r} to {target!r}") from exc
    value = float(result.magnitude)
    said = speakable(value)
    return {"expression": f"{amount.strip()} to {target.strip()}",
            "result": f"{said} {unit_words(result.units, Fraction(said) if 'e' not in said else value)}"}


# ---- the tool ---------------------------------------------------------------------------------------------------

def calculate(expression: str) -> dict[str, object]:
    """The ``calculate`` result: a conversion when the expression reads "<amount> <unit> to <unit>", else
    arithmetic. A failure is an ``error`` result the model can say."""
    if len(expression) > MAX_LENGTH:
        return {"error": f"the expression is longer than {MAX_LENGTH} characters"}
    try:
        conversion = _CONVERSION.match(_spelled(expression).strip())  # "to the power of" is not a conversion
        if conversion is not None and re.search(r"[^\W\d_]|[°℃℉]", conversion["target"]):
            return convert(conversion["amount"], conversion["target"])
        value = evaluate(expression)
        said = speakable(value)
    except CalculationError as exc:
        return {"error": str(exc)}
    except OverflowError:
        return {"error": "the result is too large to say"}
    result: dict[str, object] = {"expression": expression.strip(), "result": said}
    if (exact := _exact(value)) is not None and Fraction(said) != value:
        result["exact"] = exact
    return result


def calculator_tool() -> FunctionTool:
    return FunctionTool(TOOL, calculate, CUES, TRIGGERS)
