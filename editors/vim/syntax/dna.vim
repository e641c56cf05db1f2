" syntax/dna.vim - highlighting for dna rule files (.dna).
"
" The keyword classes are those of editors/vscode/syntaxes/dna.tmLanguage.json;
" the keywords are grammar/lexer.l's.  A keyword after '.' is a member name
" (lead.score) and is not highlighted as a keyword.
if exists("b:current_syntax")
  finish
endif

syn case match

syn keyword dnaDeclaration module import as const fn event entity identity enum score derive intent
syn keyword dnaDeclaration signal route workflow source connector team member sequence step test timezone
syn keyword dnaControl on when match else for do then per limit expire decay add weight priority
syn keyword dnaControl crosses above below becomes changes stays inactive alert overdue schedule mode
syn keyword dnaControl via wait window exit given at expect no path tolerance signature events map auth rate
syn keyword dnaAction set move to create task due notify webhook call enroll emit assign pipeline
syn keyword dnaOperatorWord and or not in
" `contains` is an option word of :syn keyword, so it is a match
syn match dnaOperatorWord "\<contains\>"
syn keyword dnaConstant true false none
syn keyword dnaType string int decimal bool duration timestamp

" members: `.name`, matched from the dot so that keywords inside lose
syn match dnaMember "\.\s*\h\w*" contains=dnaDot
syn match dnaDot "\." contained

syn match dnaTime "\<\d\{1,2}:\d\d\>"
syn match dnaDuration "\<\(\d\+[smhdw]\)\+\>"
syn match dnaNumber "\<\d\+\(\.\d\+\)\=\>"
syn match dnaWildcard "\<_\>"
syn match dnaOperator "->\|==\|!=\|<=\|>=\|\.\.\|[-+*/%<>=?]"

syn match dnaEscape "\\." contained
syn region dnaHole matchgroup=dnaHoleDelim start="{" end="}" contained contains=TOP
syn region dnaString start=+"+ skip=+\\.+ end=+"+ end=+$+ contains=dnaEscape,dnaHole

syn keyword dnaTodo TODO FIXME XXX NOTE contained
syn match dnaLineComment "//.*$" contains=dnaTodo
syn region dnaBlockComment start="/\*" end="\*/" contains=dnaTodo

hi def link dnaDeclaration Keyword
hi def link dnaControl Conditional
hi def link dnaAction Statement
hi def link dnaOperatorWord Operator
hi def link dnaConstant Constant
hi def link dnaType Type
hi def link dnaMember Identifier
hi def link dnaDot Delimiter
hi def link dnaTime Number
hi def link dnaDuration Number
hi def link dnaNumber Number
hi def link dnaWildcard Special
hi def link dnaOperator Operator
hi def link dnaEscape SpecialChar
hi def link dnaHoleDelim Special
hi def link dnaString String
hi def link dnaTodo Todo
hi def link dnaLineComment Comment
hi def link dnaBlockComment Comment

let b:current_syntax = "dna"
