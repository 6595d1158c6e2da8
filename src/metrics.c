/* metrics: placeholder until implemented */
