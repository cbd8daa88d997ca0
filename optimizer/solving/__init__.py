"""The solving stage: hand the model to HiGHS, check its status, turn values and duals into result tables, explain infeasibility."""
