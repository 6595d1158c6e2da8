/* clock: placeholder until implemented */
