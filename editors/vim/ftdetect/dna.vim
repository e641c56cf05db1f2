" ftdetect/dna.vim - *.dna files are dna rules (syntax/dna.vim)
au BufRead,BufNewFile *.dna setfiletype dna
