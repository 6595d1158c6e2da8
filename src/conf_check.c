/* conf_check: placeholder until implemented */
