" test.vim - the syntax file on editors/vscode/media/sample.dna: each check
" finds a pattern and wants the syntax group at its start.  Run by ctest
" (editors/vim_syntax) as
"   vim -u NONE -N -es --cmd 'let g:root = "REPO"' -S editors/vim/test.vim
" and writes its result lines to $DNA_VIM_OUT.
exe 'set rtp^=' . g:root . '/editors/vim'
filetype on
syntax on
exe 'edit ' . g:root . '/editors/vscode/media/sample.dna'
let s:checks = [
  \ ['^\s*\zsscore engagement', 'dnaDeclaration'],
  \ ['^\s*\zson page_visit', 'dnaControl'],
  \ ['\<\zsadd 20', 'dnaControl'],
  \ ['\zsnotify slack', 'dnaAction'],
  \ ['\zscontains "', 'dnaOperatorWord'],
  \ ['lead\.\zsscore >=', 'dnaMember'],
  \ ['\zs30d', 'dnaDuration'],
  \ ['\zs90d', 'dnaDuration'],
  \ ['\zs"/pricing"', 'dnaString'],
  \ ['{\zslead\.email}', 'dnaHole'],
  \ ['\zs{lead\.email}', 'dnaHoleDelim'],
  \ ['\zs// scoring', 'dnaLineComment'],
  \ ['\zsstring?', 'dnaType'],
  \ ['\zs_ ->', 'dnaWildcard'],
  \ ]
let s:out = []
let s:bad = 0
for [pat, want] in s:checks
  call cursor(1, 1)
  if search(pat, 'cW') == 0
    call add(s:out, 'FAIL: pattern not found: ' . pat)
    let s:bad += 1
    continue
  endif
  let got = synIDattr(synID(line('.'), col('.'), 1), 'name')
  if got ==# want
    call add(s:out, 'ok: ' . pat . ' is ' . want)
  else
    call add(s:out, 'FAIL: ' . pat . ' wants ' . want . ', is ' . got)
    let s:bad += 1
  endif
endfor
call add(s:out, (len(s:checks) - s:bad) . ' passed, ' . s:bad . ' failed')
call writefile(s:out, $DNA_VIM_OUT)
qa!
