"""Campaigns: plans with goals, budgets and approval; broadcasts to segments."""
