package main

import "context"

func (m *Main) runEval(ctx context.Context, args []string) error  { return usageError{"todo"} }
func (m *Main) runSynth(ctx context.Context, args []string) error { return usageError{"todo"} }
