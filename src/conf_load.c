/* conf_load: placeholder until implemented */
