/*
 * builtins.h - the built-in functions the language and the standard library
 * rely on.  One table (an X-macro): the checker types calls from it and the
 * VM dispatches on it, so the two cannot disagree.
 *
 * BUILTIN(name, result, nargs, arg1, arg2, where, doc)
 *   types: STR INT DEC NUM (int or decimal; result NUM follows the args)
 *          BOOL DUR TS ANY (any value; result ANY is the first argument's)
 *   where: ANYWHERE, CONFIG (connector and source settings only),
 *          SOURCE (source map expressions only)
 * All functions are pure and total; time comes from the evaluation clock.
 * New functions go at the end: a bundle names a builtin by its position.
 */
BUILTIN(env,         STR,  1, STR,  NONE, CONFIG,   "the value of an environment variable of dnad (never stored in a bundle)")
BUILTIN(header,      STR,  1, STR,  NONE, SOURCE,   "a request header of the webhook being mapped")
BUILTIN(lower,       STR,  1, STR,  NONE, ANYWHERE, "the string in lower case (ASCII)")
BUILTIN(upper,       STR,  1, STR,  NONE, ANYWHERE, "the string in upper case (ASCII)")
BUILTIN(trim,        STR,  1, STR,  NONE, ANYWHERE, "the string without leading and trailing white space")
BUILTIN(len,         INT,  1, STR,  NONE, ANYWHERE, "the length of the string in code points")
BUILTIN(starts_with, BOOL, 2, STR,  STR,  ANYWHERE, "whether the first string starts with the second")
BUILTIN(ends_with,   BOOL, 2, STR,  STR,  ANYWHERE, "whether the first string ends with the second")
BUILTIN(domain,      STR,  1, STR,  NONE, ANYWHERE, "the domain of an e-mail address or URL, lower case")
BUILTIN(now,         TS,   0, NONE, NONE, ANYWHERE, "the evaluation clock: the event's occurred_at or the timer's due time")
BUILTIN(age,         DUR,  1, TS,   NONE, ANYWHERE, "now() minus the time stamp")
BUILTIN(hour,        INT,  1, TS,   NONE, ANYWHERE, "the hour (0-23) of the time stamp in the module's time zone")
BUILTIN(weekday,     INT,  1, TS,   NONE, ANYWHERE, "the day of the week (1 = Monday .. 7 = Sunday) in the module's time zone")
BUILTIN(days,        DEC,  1, DUR,  NONE, ANYWHERE, "the duration in days")
BUILTIN(hours,       DEC,  1, DUR,  NONE, ANYWHERE, "the duration in hours")
BUILTIN(min,         NUM,  2, NUM,  NUM,  ANYWHERE, "the smaller number")
BUILTIN(max,         NUM,  2, NUM,  NUM,  ANYWHERE, "the larger number")
BUILTIN(abs,         NUM,  1, NUM,  NONE, ANYWHERE, "the absolute value")
BUILTIN(is_set,      BOOL, 1, ANY,  NONE, ANYWHERE, "whether an optional value is present")
BUILTIN(coalesce,    ANY,  2, ANY,  ANY,  ANYWHERE, "the first argument when present, else the second")
BUILTIN(round,       DEC,  2, NUM,  INT,  ANYWHERE, "the number rounded to that many decimal places (0-3; -1 tens, -2 hundreds, ...), halves away from zero")
