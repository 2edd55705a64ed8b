workers: 2
